/* A hash table from 64-bit keys to pointers (chained, grows by doubling). */
#include "hashmap.h"

#include <errno.h>
#include <stdlib.h>

static size_t slot(uint64_t key, size_t n)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL; /* a 64-bit mixer's constants */
	key ^= key >> 33;
	return (size_t)key & (n - 1);
}

int hm_init(struct hashmap *m)
{
	m->nbuckets = 64;
	m->count = 0;
	m->buckets = calloc(m->nbuckets, sizeof(*m->buckets));
	return m->buckets ? 0 : -ENOMEM;
}

void hm_destroy(struct hashmap *m)
{
	for (size_t i = 0; m->buckets && i < m->nbuckets; i++) {
		struct hm_entry *e = m->buckets[i];

		while (e) {
			struct hm_entry *next = e->next;

			free(e);
			e = next;
		}
	}
	free(m->buckets);
	m->buckets = NULL;
	m->nbuckets = m->count = 0;
}

void *hm_get(const struct hashmap *m, uint64_t key)
{
	for (struct hm_entry *e = m->buckets[slot(key, m->nbuckets)]; e; e = e->next)
		if (e->key == key)
			return e->val;
	return NULL;
}

static void grow(struct hashmap *m)
{
	size_t n = m->nbuckets * 2;
	struct hm_entry **b = calloc(n, sizeof(*b));

	if (!b)
		return; /* keep working with longer chains */
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct hm_entry *e = m->buckets[i];

		while (e) {
			struct hm_entry *next = e->next;
			size_t s = slot(e->key, n);

			e->next = b[s];
			b[s] = e;
			e = next;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->nbuckets = n;
}

int hm_put(struct hashmap *m, uint64_t key, void *val)
{
	size_t s = slot(key, m->nbuckets);

	for (struct hm_entry *e = m->buckets[s]; e; e = e->next) {
		if (e->key == key) {
			e->val = val;
			return 0;
		}
	}
	struct hm_entry *e = malloc(sizeof(*e));

	if (!e)
		return -ENOMEM;
	e->key = key;
	e->val = val;
	e->next = m->buckets[s];
	m->buckets[s] = e;
	if (++m->count > m->nbuckets)
		grow(m);
	return 0;
}

void *hm_del(struct hashmap *m, uint64_t key)
{
	struct hm_entry **pp = &m->buckets[slot(key, m->nbuckets)];

	for (; *pp; pp = &(*pp)->next) {
		struct hm_entry *e = *pp;

		if (e->key == key) {
			void *val = e->val;

			*pp = e->next;
			free(e);
			m->count--;
			return val;
		}
	}
	return NULL;
}

struct hm_entry *hm_first(const struct hashmap *m, size_t *bucket)
{
	for (*bucket = 0; *bucket < m->nbuckets; (*bucket)++)
		if (m->buckets[*bucket])
			return m->buckets[*bucket];
	return NULL;
}

struct hm_entry *hm_next(const struct hashmap *m, struct hm_entry *e, size_t *bucket)
{
	if (e->next)
		return e->next;
	for ((*bucket)++; *bucket < m->nbuckets; (*bucket)++)
		if (m->buckets[*bucket])
			return m->buckets[*bucket];
	return NULL;
}
