#include "cli/bench_sys.h"
#include "core/err.h"
#include "core/num.h"
#include "core/strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

long sys_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY ? (long)1 << 30 : (long)rl.rlim_cur;
}

int sys_url_parse(const char *url, struct sys_url *out, char *err, size_t errlen)
{
	const char *h, *slash, *colon, *port = "80";
	char host[256], portbuf[8];
	struct addrinfo hints = { 0 }, *ai = NULL;
	size_t hl;
	int r;

	memset(out, 0, sizeof(*out));
	if (strncmp(url, "http://", 7)) {
		snprintf(err, errlen, "only http:// URLs are supported: %s", url);
		return COHORT_E_INVAL;
	}
	h = url + 7;
	slash = strchr(h, '/');
	hl = slash ? (size_t)(slash - h) : strlen(h);
	if (hl == 0 || hl >= sizeof(out->host_header)) {
		snprintf(err, errlen, "bad host in URL %s", url);
		return COHORT_E_INVAL;
	}
	memcpy(out->host_header, h, hl);
	out->host_header[hl] = '\0';
	if (slash) {
		size_t pl = strlen(slash);

		while (pl && slash[pl - 1] == '/')
			pl--;
		if (pl >= sizeof(out->prefix)) {
			snprintf(err, errlen, "URL path too long");
			return COHORT_E_INVAL;
		}
		memcpy(out->prefix, slash, pl);
		out->prefix[pl] = '\0';
	}
	colon = memchr(out->host_header, ':', hl);
	if (colon) {
		size_t cl = (size_t)(colon - out->host_header);

		if (cl >= sizeof(host) || hl - cl - 1 == 0 || hl - cl - 1 >= sizeof(portbuf)) {
			snprintf(err, errlen, "bad host:port in URL %s", url);
			return COHORT_E_INVAL;
		}
		memcpy(host, out->host_header, cl);
		host[cl] = '\0';
		memcpy(portbuf, colon + 1, hl - cl - 1);
		portbuf[hl - cl - 1] = '\0';
		port = portbuf;
	} else {
		memcpy(host, out->host_header, hl + 1);
	}
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	r = getaddrinfo(host, port, &hints, &ai);
	if (r || !ai) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(r));
		return COHORT_E_INVAL;
	}
	memcpy(&out->addr, ai->ai_addr, ai->ai_addrlen);
	out->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

int sys_proc_mem(int pid, struct proc_mem *out)
{
	char path[64], line[256];
	FILE *f;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (!(f = fopen(path, "r")))
		return COHORT_E_NOTFOUND;
	while (fgets(line, sizeof(line), f)) {
		long *dst = !strncmp(line, "VmRSS:", 6)	  ? &out->rss_kb
			    : !strncmp(line, "RssAnon:", 8) ? &out->anon_kb
			    : !strncmp(line, "VmHWM:", 6)   ? &out->hwm_kb
							    : NULL;
		char *p = strchr(line, ':'), *e;

		if (!dst || !p)
			continue;
		for (p++; *p == ' ' || *p == '\t'; p++)
			;
		for (e = p; *e >= '0' && *e <= '9'; e++)
			;
		*e = '\0';
		parse_long(p, dst);
	}
	fclose(f);
	return 0;
}

int64_t sys_proc_cpu_us(int pid)
{
	char path[64], buf[1024], *p, *tok;
	FILE *f;
	size_t n;
	long field = 0, ticks = sysconf(_SC_CLK_TCK);
	int64_t sum = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!(f = fopen(path, "r")))
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields after the command name, which ends with the last ')'. */
	if (!(p = strrchr(buf, ')')) || ticks <= 0)
		return -1;
	p++;
	for (field = 3; *p; field++) {
		long v;

		while (*p == ' ')
			p++;
		tok = p;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = '\0';
		if (field == 14 || field == 15) { /* utime, stime */
			if (parse_long(tok, &v))
				return -1;
			sum += v;
		}
		if (field == 15)
			break;
	}
	return sum * 1000000 / ticks;
}

/* The fourth field of /proc/<pid>/stat, after the ')' that ends the name. */
static long proc_ppid(const char *pid)
{
	char path[300], buf[512], *p;
	FILE *f;
	size_t n;
	long ppid;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	if (!(f = fopen(path, "r")))
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (!(p = strrchr(buf, ')')) || p[1] != ' ' || !p[2] || p[3] != ' ')
		return -1;
	p += 4;
	for (n = 0; p[n] >= '0' && p[n] <= '9'; n++)
		;
	p[n] = '\0';
	return parse_long(p, &ppid) ? -1 : ppid;
}

int64_t sys_proc_tree_cpu_us(int pid)
{
	int64_t sum = sys_proc_cpu_us(pid);
	DIR *d;
	struct dirent *e;

	if (sum < 0 || !(d = opendir("/proc")))
		return sum;
	while ((e = readdir(d))) {
		long child;

		if (e->d_name[0] < '1' || e->d_name[0] > '9' || proc_ppid(e->d_name) != pid)
			continue;
		if (!parse_long(e->d_name, &child)) {
			int64_t c = sys_proc_cpu_us((int)child);

			if (c > 0)
				sum += c;
		}
	}
	closedir(d);
	return sum;
}

int sys_host_cpu(uint64_t *busy, uint64_t *total)
{
	char line[512], *p = line;
	FILE *f = fopen("/proc/stat", "r");
	uint64_t v[10] = { 0 };
	int n = 0;

	if (!f)
		return COHORT_E_IO;
	if (!fgets(line, sizeof(line), f) || strncmp(line, "cpu ", 4)) {
		fclose(f);
		return COHORT_E_IO;
	}
	fclose(f);
	p += 4;
	/* user nice system idle iowait irq softirq steal guest guest_nice */
	while (n < 8) {
		size_t k;

		while (*p == ' ')
			p++;
		for (k = 0; p[k] >= '0' && p[k] <= '9'; k++)
			;
		if (!k || parse_u64n(p, k, &v[n]))
			break;
		p += k;
		n++;
	}
	if (n < 5)
		return COHORT_E_IO;
	*total = 0;
	for (int i = 0; i < n; i++)
		*total += v[i];
	*busy = *total - v[3] - v[4];
	return 0;
}

int sys_http_get(const struct sys_url *u, const char *path, struct strbuf *body, int timeout_ms)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	struct strbuf resp = STRBUF_INIT, req = STRBUF_INIT;
	char buf[16384];
	const char *sep;
	int fd = -1, err;

	strbuf_init(&resp, 8 << 20);
	err = strbuf_addf(&req, "GET %s%s HTTP/1.0\r\nHost: %s\r\nUser-Agent: cohort-bench\r\n\r\n",
			  u->prefix, path, u->host_header);
	if (err)
		goto out;
	err = COHORT_E_IO;
	fd = socket(u->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto out;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (const struct sockaddr *)&u->addr, u->addrlen) ||
	    send(fd, req.buf, req.len, MSG_NOSIGNAL) != (ssize_t)req.len)
		goto out;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n == 0)
			break;
		if (n < 0) {
			err = errno == EAGAIN ? COHORT_E_TIMEOUT : COHORT_E_IO;
			goto out;
		}
		if ((err = strbuf_add(&resp, buf, (size_t)n)))
			goto out;
	}
	err = COHORT_E_IO;
	if (resp.len < 12 || memcmp(resp.buf, "HTTP/1.", 7))
		goto out;
	err = COHORT_E_UNAVAILABLE;
	if (memcmp(resp.buf + 9, "200", 3))
		goto out;
	err = COHORT_E_IO;
	if (!(sep = strstr(resp.buf, "\r\n\r\n")))
		goto out;
	sep += 4;
	err = strbuf_add(body, sep, resp.len - (size_t)(sep - resp.buf));
out:
	if (fd >= 0)
		close(fd);
	strbuf_release(&resp);
	strbuf_release(&req);
	return err;
}
