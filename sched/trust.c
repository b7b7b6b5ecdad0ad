/*
 * trust.c: who controls a path. The daemon runs as root and writes VMs'
 * log files at paths an operator chose, which may run through directories
 * other users own. Whoever can rename or replace an entry along the path
 * (a directory's owner, anyone when it is writable by others, the owner of
 * an entry in a sticky directory) decides what the path opens; the daemon
 * must open it with that one's rights, or not at all.
 *
 * trust_path walks the path one component at a time with lstat, following
 * symbolic links by hand (so each link, and the directory it sits in, is
 * judged too), and folds the owner of every such place into one
 * controller: the daemon itself (root, or the daemon's own user), or a
 * single other user. Two other users, or a directory writable by a group
 * or by anyone without the sticky bit, is refused. The path that comes out
 * has no symbolic links left; the last component must be absent (it will
 * be created) or a regular file with one link. Checks and the open cannot
 * race in a way that helps anyone: only the controller can change what the
 * walk saw, and the file is opened with the controller's rights.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sched.h"

#define MAX_LINKS	32

struct walk {
	uid_t	 w_self;	/* the daemon's user */
	uid_t	 w_who;		/* the controller so far */
	char	*w_why;
	size_t	 w_len;
};

/* Who may write the directory with sb, for the refusal. */
static int
fold(struct walk *w, const char *where, uid_t uid)
{
	if (uid == 0 || uid == w->w_self || uid == w->w_who)
		return 0;
	if (w->w_who == w->w_self) {
		w->w_who = uid;
		return 0;
	}
	snprintf(w->w_why, w->w_len, "%s: controlled by users %ld and %ld",
	    where, (long)w->w_who, (long)uid);
	return -1;
}

/* A directory on the way: its owner controls it; others may not write. */
static int
judge_dir(struct walk *w, const char *dir, const struct stat *sb)
{
	if ((sb->st_mode & (S_IWGRP | S_IWOTH)) && !(sb->st_mode & S_ISVTX)) {
		snprintf(w->w_why, w->w_len, "%s: writable by %s", dir,
		    sb->st_mode & S_IWOTH ? "anyone" : "its group");
		return -1;
	}
	return fold(w, dir, sb->st_uid);
}

/* Whether entries of the directory with sb are their owners' to replace. */
static int
sticky_shared(const struct stat *sb)
{
	return (sb->st_mode & S_ISVTX) && (sb->st_mode & (S_IWGRP | S_IWOTH));
}

int
trust_path(const char *path, uid_t self, char *real, size_t reallen,
    uid_t *who, char *why, size_t len)
{
	struct walk w = { self, self, why, len };
	struct stat dsb, sb;
	char cur[PATH_MAX], rest[PATH_MAX], next[PATH_MAX], link[PATH_MAX];
	char *comp, *slash;
	ssize_t n;
	int links = 0, last;

	if (path[0] != '/') {
		snprintf(why, len, "%s: not an absolute path", path);
		return -1;
	}
	if (snprintf(rest, sizeof(rest), "%s", path) >= (int)sizeof(rest)) {
		snprintf(why, len, "%s: %s", path, strerror(ENAMETOOLONG));
		return -1;
	}
	strcpy(cur, "/");
	if (lstat(cur, &dsb) == -1 || judge_dir(&w, cur, &dsb) == -1)
		goto fail_errno;
	comp = rest;
	for (;;) {
		while (*comp == '/')
			comp++;
		if (*comp == '\0')
			break;
		if ((slash = strchr(comp, '/')) != NULL)
			*slash = '\0';
		last = slash == NULL || slash[1 + strspn(slash + 1, "/")] ==
		    '\0';
		if (strcmp(comp, ".") == 0)
			goto advance;
		if (strcmp(comp, "..") == 0) {
			/* cur has no links in it: its parent is lexical. */
			char *p = strrchr(cur, '/');
			if (p != NULL && p != cur)
				*p = '\0';
			else
				strcpy(cur, "/");
			if (lstat(cur, &dsb) == -1)
				goto fail_errno;
			goto advance;
		}
		if (snprintf(next, sizeof(next), "%s%s%s", cur,
		    strcmp(cur, "/") == 0 ? "" : "/", comp) >=
		    (int)sizeof(next)) {
			snprintf(why, len, "%s: %s", path,
			    strerror(ENAMETOOLONG));
			return -1;
		}
		if (lstat(next, &sb) == -1) {
			if (errno == ENOENT && last) {
				/* To be created in cur, which is judged. */
				snprintf(cur, sizeof(cur), "%s", next);
				break;
			}
			snprintf(why, len, "%s: %s", next, strerror(errno));
			return -1;
		}
		if (sticky_shared(&dsb) && fold(&w, next, sb.st_uid) == -1)
			return -1;
		if (S_ISLNK(sb.st_mode)) {
			if (++links > MAX_LINKS) {
				snprintf(why, len, "%s: %s", path,
				    strerror(ELOOP));
				return -1;
			}
			if ((n = readlink(next, link, sizeof(link) - 1)) == -1)
				goto fail_next;
			link[n] = '\0';
			/* Walk the target, then what was left of the path. */
			if (snprintf(next, sizeof(next), "%s%s%s", link,
			    slash ? "/" : "", slash ? slash + 1 : "") >=
			    (int)sizeof(next)) {
				snprintf(why, len, "%s: %s", path,
				    strerror(ENAMETOOLONG));
				return -1;
			}
			strcpy(rest, next);
			comp = rest;
			if (rest[0] == '/') {
				strcpy(cur, "/");
				if (lstat(cur, &dsb) == -1)
					goto fail_errno;
			}
			continue;
		}
		if (last) {
			if (!S_ISREG(sb.st_mode)) {
				snprintf(why, len, "%s: not a regular file",
				    next);
				return -1;
			}
			if (sb.st_nlink > 1) {
				snprintf(why, len, "%s: has %ld hard links",
				    next, (long)sb.st_nlink);
				return -1;
			}
			strcpy(cur, next);
			break;
		}
		if (!S_ISDIR(sb.st_mode)) {
			snprintf(why, len, "%s: %s", next, strerror(ENOTDIR));
			return -1;
		}
		if (judge_dir(&w, next, &sb) == -1)
			return -1;
		strcpy(cur, next);
		dsb = sb;
advance:
		if (slash == NULL)
			break;
		comp = slash + 1;
	}
	if (snprintf(real, reallen, "%s", cur) >= (int)reallen) {
		snprintf(why, len, "%s: %s", path, strerror(ENAMETOOLONG));
		return -1;
	}
	*who = w.w_who;
	return 0;
fail_next:
	snprintf(why, len, "%s: %s", next, strerror(errno));
	return -1;
fail_errno:
	snprintf(why, len, "%s: %s", cur, strerror(errno));
	return -1;
}
