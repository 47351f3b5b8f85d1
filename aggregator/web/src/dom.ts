// The only way this page makes elements: text goes in as textContent, never
// as HTML, so whatever a node sends (nickname, head, component names and
// details) is shown literally and can run nothing.

export interface ElementProps {
  className?: string
  text?: string
  title?: string
  attrs?: Record<string, string>
}

export function el<K extends keyof HTMLElementTagNameMap> (tag: K, props: ElementProps = {}, children: Array<Node | null | undefined> = []): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  if (props.className !== undefined) element.className = props.className
  if (props.text !== undefined) element.textContent = props.text
  if (props.title !== undefined) element.title = props.title
  for (const [name, value] of Object.entries(props.attrs ?? {})) element.setAttribute(name, value)
  for (const child of children) if (child !== null && child !== undefined) element.append(child)
  return element
}

/** Sets text only when it differs: most row updates change one cell, and untouched DOM stays cheap. */
export function setText (element: Element, text: string): void {
  if (element.textContent !== text) element.textContent = text
}

export function setTitle (element: HTMLElement, title: string): void {
  if (element.title !== title) element.title = title
}

export function setClass (element: Element, className: string): void {
  if (element.className !== className) element.className = className
}

/** Looks up an element the HTML shell must contain. */
export function required<T extends HTMLElement> (id: string): T {
  const element = document.getElementById(id)
  if (element === null) throw new Error(`page shell is missing #${id}`)
  return element as T
}
