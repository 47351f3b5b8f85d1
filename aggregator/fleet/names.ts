/**
 * How many peer ids carry each nickname, kept up to date as beats arrive
 * (O(1) per beat). Identity is the peer id, so two nodes with one nickname
 * are never merged: the view flags both, so an operator can tell them apart
 * (or spot an impersonation). An empty nickname is not a name.
 */
export class NicknameCounts {
  private readonly counts = new Map<string, number>()

  add (nickname: string): void {
    if (nickname === '') return
    this.counts.set(nickname, (this.counts.get(nickname) ?? 0) + 1)
  }

  remove (nickname: string): void {
    const n = this.counts.get(nickname)
    if (n === undefined) return
    if (n <= 1) this.counts.delete(nickname)
    else this.counts.set(nickname, n - 1)
  }

  rename (from: string, to: string): void {
    if (from === to) return
    this.remove(from)
    this.add(to)
  }

  /** True when more than one peer id carries this (non-empty) nickname. */
  isShared (nickname: string): boolean {
    return (this.counts.get(nickname) ?? 0) > 1
  }
}
