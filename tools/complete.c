/*
 * complete.c: what shell completion offers where the cursor is, decided
 * from the command table alone. Given the words of a command line (as
 * bash's COMP_WORDS or zsh's words hold them) and the index of the word
 * being typed, complete_at says what belongs there: a command, an option
 * of the command (or of its subcommand), the value of the option before
 * it (a VM, a signal, a file, one of a few words), an operand, or the
 * program a VM runs after "--". No I/O: cmd-complete.c looks up VM names
 * and prints; the scripts of cmd-completion.c hand files and users to the
 * shell.
 */
#include <string.h>

#include "cli.h"

/* The option called name (up to '=' or the end) in list, or NULL. */
static const struct cli_opt *
find_in(const struct cli_opt *list, const char *name, size_t len,
    const char *sub)
{
	for (; list != NULL && list->co_name != NULL; list++)
		if (strlen(list->co_name) == len &&
		    strncmp(list->co_name, name, len) == 0 &&
		    (list->co_sub == NULL || (sub != NULL &&
		    strcmp(list->co_sub, sub) == 0)))
			return list;
	return NULL;
}

const struct cli_opt *
complete_find_opt(const struct cmd *cmd, const char *sub, const char *word)
{
	const struct cli_opt *o;
	size_t len;

	if (strncmp(word, "--", 2) != 0)
		return NULL;
	word += 2;
	len = strcspn(word, "=");
	if (cmd == NULL)
		return find_in(cli_global_opts, word, len, NULL);
	if ((o = find_in(cmd->cmd_opts, word, len, sub)) == NULL)
		o = find_in(cmd->cmd_shared, word, len, sub);
	return o;
}

/* Point cp at the value of option o. */
static void
value_of(const struct cli_opt *o, struct compl *cp)
{
	cp->cp_what = o->co_value == CV_NONE ? CV_TEXT : o->co_value;
	cp->cp_words = o->co_words;
}

/*
 * The option at words[*i] (known to be one): step over its value. 1 if
 * the cursor is on that value (cp filled), else 0.
 */
static int
skip_value(char *const *words, int *i, int cword, const struct cli_opt *o,
    struct compl *cp)
{
	if (o == NULL || o->co_value == CV_NONE || strchr(words[*i], '='))
		return 0;
	/* bash splits "--opt=value" at '=' (COMP_WORDBREAKS) */
	if (*i + 1 < cword && strcmp(words[*i + 1], "=") == 0)
		(*i)++;
	if (*i + 1 == cword) {
		value_of(o, cp);
		return 1;
	}
	(*i)++;
	return 0;
}

void
complete_at(char *const *words, int n, int cword, struct compl *cp)
{
	const struct cli_opt *o;
	const char *cur;
	int i, dashdash = 0, after = 0;

	memset(cp, 0, sizeof(*cp));
	if (cword < 1 || cword > n)
		return;
	cur = cword < n ? words[cword] : "";
	cp->cp_prefix = cur;
	/* The global options, then the command. */
	for (i = 1; i < cword; i++) {
		if (words[i][0] != '-')
			break;
		o = complete_find_opt(NULL, NULL, words[i]);
		if (skip_value(words, &i, cword, o, cp))
			return;
		/* words[i] is now --db's value, or "--db=PATH" */
		if (o != NULL && strcmp(o->co_name, "db") == 0)
			cp->cp_db = strchr(words[i], '=') ?
			    strchr(words[i], '=') + 1 : words[i];
	}
	if (i == cword) {
		if (cur[0] == '-')
			cp->cp_options = 1;
		else
			cp->cp_what = CV_COMMAND;
		return;
	}
	if ((cp->cp_cmd = cmd_find(words[i])) == NULL)
		return;
	cp->cp_typed = words + i + 1;
	cp->cp_ntyped = cword - i - 1;
	for (i++; i < cword; i++) {
		if (dashdash) {
			after++;
			continue;
		}
		if (strcmp(words[i], "--") == 0) {
			dashdash = 1;
			continue;
		}
		if (words[i][0] == '-' && words[i][1] != '\0') {
			o = complete_find_opt(cp->cp_cmd, cp->cp_sub, words[i]);
			if (skip_value(words, &i, cword, o, cp))
				return;
			continue;
		}
		if (cp->cp_noperands == 0 &&
		    cp->cp_cmd->cmd_operand == CV_WORDS)
			cp->cp_sub = words[i];
		cp->cp_noperands++;
	}
	if (dashdash) {
		/* add/set NAME ... -- PROGRAM ARG... */
		cp->cp_what = after == 0 ? CV_PROGRAM : CV_FILE;
		return;
	}
	if (cur[0] == '-') {
		cp->cp_options = 1;
		return;
	}
	/* Operands: the first is a subcommand for a CV_WORDS command. */
	if (cp->cp_cmd->cmd_operand == CV_WORDS) {
		if (cp->cp_noperands == 0) {
			cp->cp_what = CV_WORDS;
			cp->cp_words = cp->cp_cmd->cmd_words;
		}
		return;
	}
	if (cp->cp_cmd->cmd_max >= 0 && cp->cp_noperands >= cp->cp_cmd->cmd_max)
		return;
	cp->cp_what = cp->cp_cmd->cmd_operand;
}
