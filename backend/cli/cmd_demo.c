/*
 * DESIGN: seed-demo is idempotent by one marker, the user `admin`: when it
 * exists the command only reports. The core functions each run their own
 * transaction, so the demo cannot be made in one; `admin` is therefore
 * created last, and a run that fails half-way leaves no marker — the next
 * run then stops at the first existing login instead of reporting a demo
 * that is not all there.
 *
 * Join codes are stored hashed, so a later run cannot show the code: it
 * reports null and says how to make a new one.
 *
 * --templates gives each demo lesson that has none a small starter template
 * (make run asks for it; the tests do not, so their projects start empty).
 * The archive is built here with the project's own writer and stored with
 * template_store, exactly as an upload is, so students get the files on
 * their first access. Running it again only fills lessons still without one.
 */
#include "cli/cmd_demo.h"
#include "cli/cli.h"
#include "core/render.h"
#include "core/archive.h"
#include "core/course.h"
#include "core/err.h"
#include "core/lesson.h"
#include "core/objects.h"
#include "core/strbuf.h"
#include "core/template.h"
#include "core/user.h"

#include <string.h>

#define DEMO_PASSWORD "cohort-demo"
#define DEMO_COURSE "Intro to C"

static const struct demo_user {
	const char *login;
	const char *name; /* display name, and nickname in the course */
	const char *role; /* as reported: admin, teacher or student */
} demo_users[] = {
	{ "teacher", "Teacher", "teacher" },
	{ "alice", "Alice", "student" },
	{ "bob", "Bob", "student" },
	{ "carol", "Carol", "student" },
	{ "admin", "Administrator", "admin" }, /* the marker: keep it last */
};

#define NUSERS (sizeof(demo_users) / sizeof(demo_users[0]))

static const char *const demo_lessons[] = { "Hello, world", "Pointers" };

#define NLESSONS (sizeof(demo_lessons) / sizeof(demo_lessons[0]))

/* The starter files of each demo lesson, by lesson index; data NULL is a
 * directory (kept although empty). */
static const struct demo_file {
	size_t lesson;
	const char *path;
	const char *data;
} demo_files[] = {
	{ 0, "README.md", "# Hello, world\n\nMake `src/hello.c` greet you by name, then build it with `make`.\n" },
	{ 0, "Makefile", "CFLAGS = -std=c11 -Wall -Wextra\n\nhello: src/hello.c\n\t$(CC) $(CFLAGS) -o $@ $<\n" },
	{ 0, "src/hello.c",
	  "#include <stdio.h>\n\nint main(void)\n{\n    printf(\"hello, world\\n\");\n    return 0;\n}\n" },
	{ 0, "notes", NULL },
	{ 1, "README.md", "# Pointers\n\nFinish `swap` in `src/swap.c` so that the two numbers trade places.\n" },
	{ 1, "src/swap.c",
	  "#include <stdio.h>\n\nstatic void swap(int *a, int *b)\n{\n    /* your code here */\n}\n\n"
	  "int main(void)\n{\n    int x = 1, y = 2;\n\n    swap(&x, &y);\n    printf(\"%d %d\\n\", x, y);\n"
	  "    return 0;\n}\n" },
	{ 1, "tests/expected.txt", "2 1\n" },
};

struct demo {
	struct user users[NUSERS];
	bool have_user[NUSERS];
	struct course course;
	bool have_course;
	struct lesson lessons[NLESSONS];
	size_t nlessons;
	char code[JOIN_CODE_LEN + 1];
	bool have_code;
};

static int create(struct cli *c, struct demo *d)
{
	struct participant teacher, student;
	struct course joined;
	int err;

	for (size_t i = 0; i < NUSERS - 1; i++) {
		const struct demo_user *du = &demo_users[i];
		struct user_new in = {
			.login = du->login, .login_len = strlen(du->login),
			.display_name = du->name, .display_name_len = strlen(du->name),
			.password = DEMO_PASSWORD, .password_len = strlen(DEMO_PASSWORD),
		};

		err = user_create(c->db, &in, &d->users[i]);
		if (err == COHORT_E_EXISTS)
			return cli_fail(c, err, "user '%s' exists but 'admin' does not: not a complete demo;"
					" start from an empty database", du->login);
		if (err)
			return cli_fail(c, err, "cannot create user '%s': %s", du->login, cli_why(c, err));
		d->have_user[i] = true;
	}
	err = course_create(c->db, d->users[0].id, DEMO_COURSE, strlen(DEMO_COURSE), NULL, 0, NULL, 0, &d->course,
			    &teacher, d->code);
	if (err)
		return cli_fail(c, err, "cannot create the demo course: %s", cli_why(c, err));
	d->have_course = d->have_code = true;
	for (size_t i = 0; i < NLESSONS; i++) {
		err = lesson_create(c->db, d->course.id, demo_lessons[i], strlen(demo_lessons[i]), NULL, 0,
				    &d->lessons[i]);
		if (err)
			return cli_fail(c, err, "cannot create lesson '%s': %s", demo_lessons[i], cli_why(c, err));
		d->nlessons++;
	}
	for (size_t i = 1; i < NUSERS - 1; i++) {
		const char *nick = demo_users[i].name;

		err = course_join(c->db, d->users[i].id, d->code, strlen(d->code), nick, strlen(nick), &joined,
				  &student);
		if (err)
			return cli_fail(c, err, "cannot join '%s': %s", demo_users[i].login, cli_why(c, err));
	}
	{
		const struct demo_user *du = &demo_users[NUSERS - 1];
		struct user_new in = {
			.login = du->login, .login_len = strlen(du->login),
			.display_name = du->name, .display_name_len = strlen(du->name),
			.password = DEMO_PASSWORD, .password_len = strlen(DEMO_PASSWORD),
			.is_admin = true,
		};

		err = user_create(c->db, &in, &d->users[NUSERS - 1]);
		if (err)
			return cli_fail(c, err, "cannot create user 'admin': %s", cli_why(c, err));
		d->have_user[NUSERS - 1] = true;
	}
	return CLI_OK;
}

static int find_course(const struct course *course, const struct participant *me, void *arg)
{
	struct demo *d = arg;

	if (me->role != ROLE_TEACHER || strcmp(course->name, DEMO_COURSE))
		return 0;
	d->course = *course;
	d->have_course = true;
	return 1; /* the first one is the demo's */
}

static int add_lesson(const struct lesson *l, void *arg)
{
	struct demo *d = arg;

	if (d->nlessons == NLESSONS)
		return 1;
	d->lessons[d->nlessons++] = *l;
	return 0;
}

/* Finds what an earlier run made; whatever is gone is reported as null. */
static int find(struct cli *c, struct demo *d)
{
	int err;

	for (size_t i = 0; i < NUSERS; i++) {
		err = user_get_by_login(c->db, demo_users[i].login, &d->users[i], NULL, NULL);
		if (err && err != COHORT_E_NOTFOUND)
			return cli_fail(c, err, "cannot read user '%s': %s", demo_users[i].login, cli_why(c, err));
		d->have_user[i] = !err;
	}
	if (!d->have_user[0])
		return CLI_OK;
	err = course_list_for_user(c->db, d->users[0].id, find_course, d);
	if (err < 0)
		return cli_fail(c, err, "cannot list the teacher's courses: %s", cli_why(c, err));
	if (!d->have_course)
		return CLI_OK;
	err = lesson_list(c->db, d->course.id, add_lesson, d);
	if (err < 0)
		return cli_fail(c, err, "cannot list the demo lessons: %s", cli_why(c, err));
	return CLI_OK;
}

static int append_archive(void *ctx, const void *data, size_t len)
{
	return strbuf_add(ctx, data, len);
}

/* The tar.gz of lesson i's starter files into out. */
static int demo_archive(size_t lesson, struct strbuf *out)
{
	struct arch_writer *w = NULL;
	int err = arch_writer_new(ARCH_TAR_GZ, append_archive, out, &w);

	for (size_t i = 0; !err && i < sizeof(demo_files) / sizeof(demo_files[0]); i++) {
		const struct demo_file *f = &demo_files[i];

		if (f->lesson != lesson)
			continue;
		err = arch_writer_add(w, f->path, f->data ? ARCH_FILE : ARCH_DIR, f->data,
				      f->data ? strlen(f->data) : 0);
	}
	if (!err)
		err = arch_writer_finish(w);
	arch_writer_free(w);
	return err;
}

/* Stores a starter template for every demo lesson that has none. */
static int add_templates(struct cli *c, struct demo *d)
{
	struct template_limits lim;
	struct objects *o = NULL;
	struct strbuf sb = STRBUF_INIT;
	int rc = CLI_OK, err;

	template_limits_from_config(&c->cfg, &lim);
	err = objects_open(c->cfg.objects_url, &o);
	if (err)
		return cli_fail(c, err, "cannot open the object store %s", c->cfg.objects_url);
	for (size_t i = 0; i < d->nlessons && i < NLESSONS; i++) {
		struct template_info t;
		char why[300] = "";

		if (d->lessons[i].template_ref[0])
			continue;
		strbuf_reset(&sb);
		err = demo_archive(i, &sb);
		if (!err)
			err = template_store(c->db, o, d->lessons[i].id, sb.buf, sb.len, &lim, &t, why, sizeof(why));
		if (err) {
			rc = cli_fail(c, err, "cannot store the template of lesson '%s': %s", d->lessons[i].name,
				      why[0] ? why : cli_why(c, err));
			break;
		}
		memcpy(d->lessons[i].template_ref, t.ref, sizeof(t.ref));
	}
	strbuf_release(&sb);
	objects_free(o);
	return rc;
}

static void report(struct cli *c, const struct demo *d, bool created)
{
	struct jsonw *w = &c->out;

	jsonw_obj(w, NULL);
	jsonw_bool(w, "created", created);
	jsonw_str(w, "note", "demo accounts with a published password: never use them on a shared or public server");
	jsonw_arr(w, "users");
	for (size_t i = 0; i < NUSERS; i++) {
		jsonw_obj(w, NULL);
		jsonw_str(w, "login", demo_users[i].login);
		jsonw_str(w, "password", DEMO_PASSWORD);
		jsonw_str(w, "role", demo_users[i].role);
		jsonw_id(w, "id", d->have_user[i] ? d->users[i].id : 0);
		jsonw_end(w);
	}
	jsonw_end(w);
	if (!d->have_course) {
		jsonw_null(w, "course");
	} else {
		jsonw_obj(w, "course");
		jsonw_int(w, "id", d->course.id);
		jsonw_str(w, "name", d->course.name);
		if (d->have_code) {
			jsonw_str(w, "join_code", d->code);
		} else {
			jsonw_null(w, "join_code");
			jsonw_str(w, "join_code_note", "join codes are stored hashed and shown only when made;"
						       " `cohort course-rotate-code <id>` makes a new one");
		}
		jsonw_end(w);
	}
	jsonw_arr(w, "lessons");
	for (size_t i = 0; i < d->nlessons; i++) {
		jsonw_obj(w, NULL);
		jsonw_int(w, "id", d->lessons[i].id);
		jsonw_str(w, "name", d->lessons[i].name);
		if (d->lessons[i].template_ref[0])
			jsonw_str(w, "template", d->lessons[i].template_ref);
		else
			jsonw_null(w, "template");
		jsonw_end(w);
	}
	jsonw_end(w);
	jsonw_end(w);
}

int cmd_seed_demo(struct cli *c, int argc, char **argv)
{
	struct demo d;
	struct user admin;
	bool templates = false;
	const struct cli_opt opts[] = { { "templates", NULL, &templates } };
	int rc, err;

	memset(&d, 0, sizeof(d));
	rc = cli_args(c, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), NULL, 0, 0);
	if (rc)
		return rc;
	err = user_get_by_login(c->db, "admin", &admin, NULL, NULL);
	if (err && err != COHORT_E_NOTFOUND)
		return cli_fail(c, err, "cannot read user 'admin': %s", cli_why(c, err));
	rc = err ? create(c, &d) : find(c, &d);
	if (!rc && templates)
		rc = add_templates(c, &d);
	if (rc)
		return rc;
	report(c, &d, err != 0);
	return CLI_OK;
}
