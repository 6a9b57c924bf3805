/* ids.h — random identifiers (libsodium's RNG): request ids, client ids. */
#ifndef COHORT_IDS_H
#define COHORT_IDS_H

#include <stddef.h>

#define IDS_REQUEST_LEN 16 /* characters, without the NUL */

/* Initializes libsodium; call once at process start. */
int ids_init(void);
/* Writes IDS_REQUEST_LEN lowercase base32 characters and a NUL. */
void ids_request(char out[IDS_REQUEST_LEN + 1]);

#endif
