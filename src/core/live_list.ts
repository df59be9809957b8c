/**
 * A registry of short-lived items (sessions, watched deadlines) as a doubly
 * linked list.
 *
 * Why not a `Set` or `Map`: with thousands of sessions a second passing
 * through one, ended sessions stayed reachable until a full collection: on
 * Deno each young-generation collection copied 2.4 MB of them and promoted
 * 1.9 MB, and with this list 0.64 MB and 15 KB (README, "Performance").
 * The likely reason, inferred rather than proven: the engine rebuilds such
 * hash tables as entries come and go, and an old copy keeps pointing at what
 * it held until collected. A removed list node points at nothing.
 *
 * @module
 */

/** The handle {@linkcode LiveList.add} returns, for `remove()`. */
export interface LiveNode<T> {
  /** The item. */
  readonly value: T;
}

class _Node<T> implements LiveNode<T> {
  readonly value: T;
  prev: _Node<T> | null = null;
  next: _Node<T> | null = null;
  list: LiveList<T> | null;

  constructor(value: T, list: LiveList<T>) {
    this.value = value;
    this.list = list;
  }
}

/**
 * Items in insertion order, with O(1) add and remove through the node
 * `add()` returns.
 *
 * @example
 * ```ts
 * import { LiveList } from "./live_list.ts";
 * const sessions = new LiveList<string>();
 * const a = sessions.add("a");
 * sessions.add("b");
 * sessions.remove(a);
 * [...sessions]; // ["b"]
 * ```
 */
export class LiveList<T> implements Iterable<T> {
  #head: _Node<T> | null = null;
  #tail: _Node<T> | null = null;
  #size = 0;

  /** How many items are in the list. */
  get size(): number {
    return this.#size;
  }

  /**
   * Appends an item.
   *
   * @param value The item.
   * @returns Its node, to remove it with.
   */
  add(value: T): LiveNode<T> {
    const node = new _Node(value, this);
    node.prev = this.#tail;
    if (this.#tail) this.#tail.next = node;
    else this.#head = node;
    this.#tail = node;
    this.#size++;
    return node;
  }

  /**
   * Removes an item by its node; a node already removed is ignored.
   *
   * @param handle What `add()` returned.
   * @throws {RangeError} When the node belongs to another list.
   */
  remove(handle: LiveNode<T>): void {
    const node = handle as _Node<T>;
    if (node.list === null) return;
    if (node.list !== this) {
      throw new RangeError("The node belongs to another list");
    }
    if (node.prev) node.prev.next = node.next;
    else this.#head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.#tail = node.prev;
    // Unlinked entirely: a removed node keeps nothing else alive.
    node.prev = node.next = null;
    node.list = null;
    this.#size--;
  }

  /**
   * The items, oldest first, as a snapshot: removing items while iterating
   * does not disturb it.
   */
  [Symbol.iterator](): Iterator<T> {
    const items: T[] = [];
    for (let node = this.#head; node; node = node.next) items.push(node.value);
    return items[Symbol.iterator]();
  }
}
