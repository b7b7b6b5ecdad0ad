/*
 * import.c: many definitions at once. import-launchd stores every plist's
 * definition in one immediate transaction, all or none, through vm.c's own
 * writer (db_vm_write), so each one is checked and audited exactly as add
 * and set would. Also the figure the boot units' stop timeout comes from.
 */
#include <string.h>

#include "db.h"

struct import {
	const struct vm_def	*i_vd;
	size_t			 i_n;
	int			 i_replace;
	long			 i_uid;
	enum db_import_how	*i_how;
	size_t			 i_failed;	/* index at fault, or i_n */
};

static int
import(struct db *db, void *arg)
{
	struct import *im = arg;
	const struct vm_def *vd;
	size_t i;
	int rc, exists, changed;

	for (i = 0; i < im->i_n; i++) {
		vd = &im->i_vd[i];
		im->i_failed = i;
		if ((exists = db_vm_exists(db, vd->vd_name)) == DB_ERR)
			return DB_ERR;
		if (exists && !im->i_replace)
			return db_fail(db, DB_EXISTS, "%s: already defined "
			    "(--replace replaces it)", vd->vd_name);
		if ((rc = db_vm_write(db, vd, exists, im->i_uid, &changed)) !=
		    DB_OK)
			return rc;
		im->i_how[i] = !exists ? DB_IMPORT_ADDED : changed ?
		    DB_IMPORT_CHANGED : DB_IMPORT_SAME;
	}
	im->i_failed = im->i_n;
	return DB_OK;
}

int
db_vm_import(struct db *db, const struct vm_def *vd, size_t n, int replace,
    long uid, enum db_import_how *how, size_t *failed)
{
	struct import im = { vd, n, replace, uid, how, n };
	size_t i, k;
	int rc;

	/* Twice in one import would replace itself: refuse it before. */
	for (i = 0; i < n; i++)
		for (k = 0; k < i; k++)
			if (strcmp(vd[i].vd_name, vd[k].vd_name) == 0) {
				*failed = i;
				return db_fail(db, DB_REFUSED, "%s: given "
				    "twice", vd[i].vd_name);
			}
	rc = db_tx(db, import, &im);
	*failed = rc == DB_OK ? n : im.i_failed;
	return rc;
}

int
db_stop_timeouts(struct db *db, int64_t *sum_ms, int64_t *count,
    int *unbounded)
{
	sqlite3_stmt *st;
	int rc;

	st = db_prep(db, "SELECT coalesce(sum(stop_timeout_ms), 0), count(*), "
	    "coalesce(max(stop_timeout_ms = 0), 0) FROM vm", "");
	if (st == NULL)
		return DB_ERR;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*sum_ms = sqlite3_column_int64(st, 0);
		*count = sqlite3_column_int64(st, 1);
		*unbounded = sqlite3_column_int(st, 2);
	} else
		db_fail(db, DB_ERR, "adding up the stop timeouts: %s",
		    sqlite3_errmsg(db->db_h));
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? DB_OK : DB_ERR;
}
