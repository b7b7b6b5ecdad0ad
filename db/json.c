/*
 * json.c: JSON that comes from outside (issue 12), read with SQLite's own
 * JSON functions on a private in-memory connection, so nothing parses
 * JSON by hand: a command given as a JSON array of strings (--stop-cmd
 * '["virsh", "shutdown", "web"]'), and the answers of QEMU's monitor
 * (QMP). No database file is touched; the connection lives for one call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

/* An in-memory connection, or NULL with why. */
static sqlite3 *
mem_open(char *why, size_t len)
{
	sqlite3 *h = NULL;

	if (sqlite3_open_v2(":memory:", &h, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_MEMORY, NULL) != SQLITE_OK) {
		snprintf(why, len, "SQLite: %s", h ? sqlite3_errmsg(h) :
		    "out of memory");
		sqlite3_close(h);
		return NULL;
	}
	return h;
}

/* Whether json escapes a NUL (\u0000), which SQLite would cut a string
 * at: backslashes only begin escapes, so counting them is enough. */
static int
escapes_nul(const char *json)
{
	const char *p;

	for (p = json; *p != '\0'; p++) {
		if (*p != '\\')
			continue;
		if (p[1] == 'u' && strncmp(p + 2, "0000", 4) == 0)
			return 1;
		if (p[1] != '\0')
			p++;
	}
	return 0;
}

int
db_json_argv(const char *json, struct strv *sv, char *why, size_t len)
{
	sqlite3 *h;
	sqlite3_stmt *st = NULL;
	const char *type, *val;
	struct strv out = { NULL, 0 };
	int rc, bad = 0;

	if (escapes_nul(json)) {
		snprintf(why, len, "a string holds a NUL byte (\\u0000)");
		return -1;
	}
	if ((h = mem_open(why, len)) == NULL)
		return -1;
	/* Is it an array at all? Then one row per element. */
	if (sqlite3_prepare_v2(h, "SELECT CASE WHEN json_valid(?1) THEN "
	    "json_type(?1) = 'array' ELSE 0 END", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		snprintf(why, len, "SQLite: %s", sqlite3_errmsg(h));
		bad = 1;
		goto done;
	}
	if (!sqlite3_column_int(st, 0)) {
		snprintf(why, len, "not a JSON array of strings (such as "
		    "[\"virsh\", \"shutdown\", \"web\"])");
		bad = 1;
		goto done;
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(h, "SELECT type, value FROM json_each(?1)", -1,
	    &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC) != SQLITE_OK) {
		snprintf(why, len, "SQLite: %s", sqlite3_errmsg(h));
		bad = 1;
		goto done;
	}
	while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		type = (const char *)sqlite3_column_text(st, 0);
		val = (const char *)sqlite3_column_text(st, 1);
		if (type == NULL || strcmp(type, "text") != 0 || val == NULL) {
			snprintf(why, len, "element %zu is not a string",
			    out.sv_n + 1);
			bad = 1;
		} else if ((size_t)sqlite3_column_bytes(st, 1) != strlen(val)) {
			snprintf(why, len, "element %zu holds a NUL byte",
			    out.sv_n + 1);
			bad = 1;
		} else if (strv_push(&out, val) == -1) {
			snprintf(why, len, "out of memory");
			bad = 1;
		}
	}
	if (!bad && rc != SQLITE_ROW && rc != SQLITE_DONE) {
		snprintf(why, len, "SQLite: %s", sqlite3_errmsg(h));
		bad = 1;
	}
	if (!bad && out.sv_n == 0) {
		snprintf(why, len, "an empty command");
		bad = 1;
	}
	if (!bad && out.sv_v[0][0] == '\0') {
		snprintf(why, len, "an empty program name");
		bad = 1;
	}
done:
	sqlite3_finalize(st);
	sqlite3_close(h);
	if (bad) {
		strv_clear(&out);
		return -1;
	}
	strv_clear(sv);
	*sv = out;
	return 0;
}

int
db_json_get(const char *json, const char *path, char **out, char *why,
    size_t len)
{
	sqlite3 *h;
	sqlite3_stmt *st = NULL;
	const char *v;
	int rc = -1;

	*out = NULL;
	if ((h = mem_open(why, len)) == NULL)
		return -1;
	if (sqlite3_prepare_v2(h, "SELECT json_valid(?1), CASE WHEN "
	    "json_valid(?1) THEN json_extract(?1, ?2) END", -1, &st, NULL) !=
	    SQLITE_OK || sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC) !=
	    SQLITE_OK || sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC) !=
	    SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		snprintf(why, len, "SQLite: %s", sqlite3_errmsg(h));
		goto done;
	}
	if (!sqlite3_column_int(st, 0)) {
		snprintf(why, len, "not JSON");
		goto done;
	}
	rc = 0;
	if ((v = (const char *)sqlite3_column_text(st, 1)) != NULL &&
	    (*out = strdup(v)) == NULL) {
		snprintf(why, len, "out of memory");
		rc = -1;
	}
done:
	sqlite3_finalize(st);
	sqlite3_close(h);
	return rc;
}

int
db_json_quote(const char *s, char **out)
{
	sqlite3 *h;
	sqlite3_stmt *st = NULL;
	const char *v;
	char why[64];
	int rc = -1;

	*out = NULL;
	if ((h = mem_open(why, sizeof(why))) == NULL)
		return -1;
	if (sqlite3_prepare_v2(h, "SELECT json_quote(?)", -1, &st, NULL) ==
	    SQLITE_OK && sqlite3_bind_text(st, 1, s, -1, SQLITE_STATIC) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
	    (v = (const char *)sqlite3_column_text(st, 0)) != NULL &&
	    (*out = strdup(v)) != NULL)
		rc = 0;
	sqlite3_finalize(st);
	sqlite3_close(h);
	return rc;
}
