export { seededRandom } from '../../shared/random.ts'
