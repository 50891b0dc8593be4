/* A hash table from 64-bit keys to pointers (chained, grows by doubling).
 * The collector's tables (zombies by pid, parents by identity) use it. */
#ifndef ZM_HASHMAP_H
#define ZM_HASHMAP_H

#include <stddef.h>
#include <stdint.h>

struct hm_entry {
	uint64_t key;
	void *val;
	struct hm_entry *next;
};

struct hashmap {
	struct hm_entry **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
};

int hm_init(struct hashmap *m);
void hm_destroy(struct hashmap *m); /* frees entries, not values */
void *hm_get(const struct hashmap *m, uint64_t key);
/* Inserts or replaces; returns 0 or -ENOMEM. */
int hm_put(struct hashmap *m, uint64_t key, void *val);
/* Removes and returns the value, or NULL. */
void *hm_del(struct hashmap *m, uint64_t key);

/* Iteration: for (it = hm_first(m, &b); it; it = hm_next(m, it, &b)) — do not
 * insert or delete while iterating. */
struct hm_entry *hm_first(const struct hashmap *m, size_t *bucket);
struct hm_entry *hm_next(const struct hashmap *m, struct hm_entry *e, size_t *bucket);

#endif
