/*
 * cmd-complete.c: vmsched complete CWORD WORD... is what the shell
 * completion scripts (cmd-completion.c) run on every TAB; it is left out
 * of help. WORD... is the whole command line as the shell split it,
 * "vmsched" first, and CWORD the index of the word being typed. It prints
 * one candidate a line, each starting with what was typed, a TAB and a
 * few words of description after some; or a single line "@file", "@dir",
 * "@user" or "@command" for what the shell completes better itself. It
 * decides nothing itself (complete.c does, from the command table) and
 * never fails: a database that is not there just offers no VM names.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Print lead and word if they start with what was typed. */
static void
offer(const char *typed, const char *lead, const char *word,
    const char *descr)
{
	char full[1024];

	snprintf(full, sizeof(full), "%s%s", lead, word);
	if (strncmp(full, typed, strlen(typed)) != 0)
		return;
	printf("%s%s%s\n", full, descr ? "\t" : "", descr ? descr : "");
}

static void
offer_opts(const struct cli_opt *o, const char *sub, const char *typed)
{
	char name[64];

	for (; o != NULL && o->co_name != NULL; o++) {
		if ((sub == NULL) != (o->co_sub == NULL) ||
		    (sub != NULL && strcmp(sub, o->co_sub) != 0))
			continue;
		snprintf(name, sizeof(name), "--%s", o->co_name);
		offer(typed, "", name, o->co_meta);
	}
}

/* Each blank-separated word of list. */
static void
offer_words(const char *list, const char *typed)
{
	char word[64];
	size_t len;

	while (list != NULL && *list != '\0') {
		len = strcspn(list, " ");
		if (len > 0 && len < sizeof(word)) {
			memcpy(word, list, len);
			word[len] = '\0';
			offer(typed, "", word, NULL);
		}
		list += len;
		list += strspn(list, " ");
	}
}

struct names {
	const struct compl	*n_cp;
};

/* A VM's name, unless it is already on the command line. */
static int
offer_vm(const struct db_vm_row *r, void *arg)
{
	const struct compl *cp = ((struct names *)arg)->n_cp;
	int i;

	for (i = 0; i < cp->cp_ntyped; i++)
		if (strcmp(cp->cp_typed[i], r->vr_name) == 0)
			return 0;
	offer(cp->cp_prefix, "", r->vr_name, r->vr_state);
	return 0;
}

static void
offer_vms(struct cli *cli, const struct compl *cp)
{
	struct names n = { cp };
	const char *path = cp->cp_db ? cp->cp_db : cli->c_dbpath;

	/* Never create a database, nor say anything, to complete a name. */
	if (access(path, R_OK | W_OK) == -1 ||
	    db_open(&cli->c_db, path, -1) != DB_OK)
		return;
	db_list(&cli->c_db, NULL, 0, offer_vm, &n);
}

/* --events a,b,<TAB>: names and prefixes after the last comma. */
static void
offer_events(const char *typed)
{
	static const char *const prefixes[] = { "vm.*", "scheduler.*", "*" };
	const char *comma = strrchr(typed, ',');
	char lead[512];
	size_t i;

	snprintf(lead, sizeof(lead), "%.*s", comma ? (int)(comma - typed +
	    1) : 0, typed);
	for (i = 0; hook_event_names[i] != NULL; i++)
		offer(typed, lead, hook_event_names[i], NULL);
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		offer(typed, lead, prefixes[i], NULL);
}

static int
complete(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	struct compl cp;
	const char *why, *name;
	char buf[16];
	long cword;
	size_t i;
	int sig;

	if (argc < 3 || value_int(argv[1], 1, argc - 2, &cword, &why) == -1)
		return cli_usage(self);
	complete_at(argv + 2, argc - 2, (int)cword, &cp);
	if (cp.cp_options) {
		if (cp.cp_cmd == NULL)
			offer_opts(cli_global_opts, NULL, cp.cp_prefix);
		else {
			offer_opts(cp.cp_cmd->cmd_opts, cp.cp_sub,
			    cp.cp_prefix);
			offer_opts(cp.cp_cmd->cmd_shared, cp.cp_sub,
			    cp.cp_prefix);
		}
		return 0;
	}
	switch (cp.cp_what) {
	case CV_COMMAND:
		for (i = 0; cmd_table[i] != NULL; i++)
			if (!cmd_table[i]->cmd_hidden)
				offer(cp.cp_prefix, "", cmd_table[i]->cmd_name,
				    cmd_table[i]->cmd_help);
		break;
	case CV_WORDS:
		offer_words(cp.cp_words, cp.cp_prefix);
		break;
	case CV_VM:
		offer_vms(cli, &cp);
		break;
	case CV_SIGNAL:
		for (sig = 1; sig < NSIG; sig++)
			if ((name = value_signame(sig, buf, sizeof(buf))) !=
			    buf)
				offer(cp.cp_prefix, "", name, NULL);
		break;
	case CV_EVENTS:
		offer_events(cp.cp_prefix);
		break;
	case CV_FILE:
		puts("@file");
		break;
	case CV_DIR:
		puts("@dir");
		break;
	case CV_USER:
		puts("@user");
		break;
	case CV_PROGRAM:
		puts("@command");
		break;
	default:
		break;
	}
	return 0;
}

const struct cmd cmd_complete = {
	"complete", "CWORD WORD...",
	"what the completion scripts offer at word CWORD (for scripts)",
	2, -1, complete, .cmd_hidden = 1,
};
