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
	unsigned char raw[IDS_REQUEST_LEN];

	randombytes_buf(raw, sizeof(raw));
	for (size_t i = 0; i < IDS_REQUEST_LEN; i++)
		out[i] = alphabet[raw[i] & 31];
	out[IDS_REQUEST_LEN] = '\0';
}
