/*
 * bench_sys.h — what the bench needs from the operating system and from the
 * process it measures: the open-file limit, a target URL, the memory and CPU
 * time of a process from /proc, and a one-shot HTTP GET for a metrics page.
 */
#ifndef COHORT_BENCH_SYS_H
#define COHORT_BENCH_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct strbuf;

/* Raises RLIMIT_NOFILE to the hard limit; returns the new soft limit. */
long sys_raise_nofile(void);

struct sys_url {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char host_header[300]; /* "host:port" as given */
	char prefix[512];      /* path before /stream/..., without trailing '/' */
};

/* Parses "http://host[:port][/prefix]" and resolves host. */
int sys_url_parse(const char *url, struct sys_url *out, char *err, size_t errlen);

struct proc_mem {
	long rss_kb;  /* VmRSS */
	long anon_kb; /* RssAnon */
	long hwm_kb;  /* VmHWM */
};

/* 0, or COHORT_E_NOTFOUND when the process is gone. */
int sys_proc_mem(int pid, struct proc_mem *out);
/* User + system CPU time of a process, in microseconds; -1 when unknown. */
int64_t sys_proc_cpu_us(int pid);
/* The same, plus the process's live children (nginx's workers). */
int64_t sys_proc_tree_cpu_us(int pid);

/* Whole-machine CPU time from /proc/stat, in clock ticks: busy (all but
 * idle and iowait) and total. 0 or COHORT_E_IO. */
int sys_host_cpu(uint64_t *busy, uint64_t *total);

/* GET path from the URL's server with a timeout; appends the body. 0, or
 * a negative error (COHORT_E_IO, COHORT_E_TIMEOUT, or COHORT_E_UNAVAILABLE
 * for a status other than 200). */
int sys_http_get(const struct sys_url *u, const char *path, struct strbuf *body, int timeout_ms);

#endif
