/*
 * principal.h — who is asking: the authenticated user behind a request or a
 * stream connection, as resolved from a verified token and the users table.
 */
#ifndef COHORT_PRINCIPAL_H
#define COHORT_PRINCIPAL_H

#include <stdbool.h>
#include <stdint.h>

#define LOGIN_MAX 64

struct principal {
	int64_t user_id; /* 0: anonymous */
	bool is_admin;
	char login[LOGIN_MAX + 1];
};

#endif
