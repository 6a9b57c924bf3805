/*
 * Fuzz target: the configuration file parser. config_load reads a path, so
 * each input is written to one temporary file (created once) first. The
 * environment's COHORT_* variables are cleared so only the file counts.
 *
 * Checks: success or COHORT_E_CONFIG with a one-line message; every string
 * key is set after success; config_release frees everything (LeakSanitizer).
 */
#include "core/config.h"
#include "core/err.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[4096];

static void remove_file(void)
{
	if (path[0])
		unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	(void)argc;
	(void)argv;
	for (size_t i = 0; i < config_key_count(); i++) {
		char name[160];
		const char *k = config_key_name(i);
		size_t j = (size_t)snprintf(name, sizeof(name), "COHORT_");

		for (; *k && j + 1 < sizeof(name); k++)
			name[j++] = *k == '.' ? '_' : (char)toupper((unsigned char)*k);
		name[j] = '\0';
		unsetenv(name);
	}
	/* Prefer memory-backed /dev/shm: the file is rewritten for every input. */
	if (!dir || !*dir)
		dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(path, sizeof(path), "%s/cohort-fuzz-config-XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		abort();
	close(fd);
	atexit(remove_file);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cohort_config cfg;
	char errbuf[256];
	int fd = open(path, O_WRONLY);
	int err;

	/* Write, then cut to size: on ext4, truncating to zero and rewriting
	 * forces a flush on close, which made this target ~100x slower. */
	if (fd < 0 || pwrite(fd, data, size, 0) != (ssize_t)size || ftruncate(fd, (off_t)size))
		abort();
	close(fd);
	errbuf[0] = '\0';
	err = config_load(&cfg, path, errbuf, sizeof(errbuf));
	if (err) {
		if (err != COHORT_E_CONFIG || !errbuf[0] || strchr(errbuf, '\n') != NULL)
			abort();
	} else if (!cfg.redis_host || !cfg.db_path || !cfg.log_level || !cfg.var_dir || cfg.redis_port < 1 ||
		   cfg.redis_port > 65535) {
		abort();
	}
	config_release(&cfg);
	return 0;
}
