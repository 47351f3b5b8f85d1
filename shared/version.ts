import { readPackageManifest } from './package-files.ts'

const pkg = readPackageManifest()

export const PRODUCT_NAME = pkg.name
export const PRODUCT_VERSION = pkg.version
