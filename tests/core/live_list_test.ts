import assert from "node:assert/strict";
import { LiveList } from "../../src/core/live_list.ts";

Deno.test("LiveList keeps items in insertion order and removes any of them by node", () => {
  const list = new LiveList<string>();
  const a = list.add("a");
  const b = list.add("b");
  const c = list.add("c");
  assert.equal(list.size, 3);
  list.remove(b);
  assert.deepEqual([...list], ["a", "c"]);
  list.remove(a);
  assert.deepEqual([...list], ["c"]);
  list.remove(c);
  assert.deepEqual([...list], []);
  assert.equal(list.size, 0);
  // Adding after emptying starts a fresh chain.
  list.add("d");
  assert.deepEqual([...list], ["d"]);
});

Deno.test("LiveList.remove() ignores a node already removed", () => {
  const list = new LiveList<number>();
  const one = list.add(1);
  list.add(2);
  list.remove(one);
  list.remove(one);
  assert.equal(list.size, 1);
  assert.deepEqual([...list], [2]);
});

Deno.test("LiveList.remove() throws RangeError for another list's node", () => {
  const mine = new LiveList<number>();
  const theirs = new LiveList<number>();
  mine.add(1);
  const foreign = theirs.add(2);
  assert.throws(() => mine.remove(foreign), RangeError);
  assert.equal(mine.size, 1);
  assert.equal(theirs.size, 1);
});

Deno.test("LiveList iterates a snapshot: removing while iterating visits every item once", () => {
  const list = new LiveList<number>();
  const nodes = [1, 2, 3, 4].map((n) => list.add(n));
  const seen: number[] = [];
  for (const n of list) {
    seen.push(n);
    // Remove this item and the next one: the walk is not disturbed.
    list.remove(nodes[n - 1]!);
    if (n < 4) list.remove(nodes[n]!);
  }
  assert.deepEqual(seen, [1, 2, 3, 4]);
  assert.equal(list.size, 0);
});

Deno.test("LiveList: a removed node holds no link to the rest of the list", () => {
  const list = new LiveList<object>();
  list.add({});
  const middle = list.add({});
  list.add({});
  list.remove(middle);
  // The node's own fields: what a dead copy could keep alive.
  const fields = middle as unknown as { prev: unknown; next: unknown };
  assert.equal(fields.prev, null);
  assert.equal(fields.next, null);
  assert.equal(list.size, 2);
});
