#include "core/ids.h"
#include "core/err.h"

#include <sodium.h>

int ids_init(void)
{
	return sodium_init() < 0 ? COHORT_E_INTERNAL : 0;
}

void ids_request(char out[IDS_REQUEST_LEN + 1])
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	/* Request ids need no secrecy, only uniqueness: random bytes are
	 * fetched a block at a time per thread, not with a system call per id. */
	static __thread unsigned char pool[IDS_REQUEST_LEN * 64];
	static __thread size_t used = sizeof(pool);

	if (used + IDS_REQUEST_LEN > sizeof(pool)) {
		randombytes_buf(pool, sizeof(pool));
		used = 0;
	}
	for (size_t i = 0; i < IDS_REQUEST_LEN; i++)
		out[i] = alphabet[pool[used + i] & 31];
	sodium_memzero(pool + used, IDS_REQUEST_LEN);
	used += IDS_REQUEST_LEN;
	out[IDS_REQUEST_LEN] = '\0';
}
