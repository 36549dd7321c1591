export type Child = Node | string | null | undefined | false;
type Attrs = Readonly<Record<string, string | number | boolean | undefined>>;

/** An element with attributes and children; text always goes in as text, never as markup. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  el.append(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
  return el;
}

/** Sets each attribute; false or undefined removes it. */
export function setAttrs(el: Element, attrs: Attrs): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) el.removeAttribute(name);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
}

export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/**
 * Puts exactly these elements in the container, in this order, moving only those out of place:
 * an element that stays keeps its hover and focus while live updates stream in.
 */
export function syncChildren(container: Element, wanted: readonly Element[]): void {
  const keep = new Set<Element>(wanted);
  for (const child of [...container.children]) if (!keep.has(child)) child.remove();
  wanted.forEach((el, i) => {
    if (container.children[i] !== el) container.insertBefore(el, container.children[i] ?? null);
  });
}

/** The view of a key, made once; forgets the keys not asked for since the last sweep. */
export class Keyed<T> {
  private readonly items = new Map<string, T>();
  private seen = new Set<string>();

  constructor(private readonly create: (key: string) => T) {}

  get(key: string): T {
    this.seen.add(key);
    let el = this.items.get(key);
    if (!el) {
      el = this.create(key);
      this.items.set(key, el);
    }
    return el;
  }

  sweep(): void {
    for (const key of this.items.keys()) if (!this.seen.has(key)) this.items.delete(key);
    this.seen = new Set();
  }
}
