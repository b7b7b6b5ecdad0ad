/*
 * cmd-completion.c: vmsched completion bash|zsh prints the shell's
 * completion script; `make install` writes them where bash-completion and
 * zsh look. The scripts know nothing about vmsched's commands: on every
 * TAB they run `vmsched complete` (cmd-complete.c), which answers from
 * the command table, so a new command or option completes the moment it
 * is in the table. They only hand what the shell does best (files,
 * directories, users, programs) back to the shell.
 */
#include <string.h>

#include "cli.h"

static const char bash_script[] =
"# bash completion for vmsched; written by `vmsched completion bash`.\n"
"# Every TAB asks `vmsched complete`, which answers from vmsched's own\n"
"# command table. Install: vmsched completion bash >\n"
"#     /usr/share/bash-completion/completions/vmsched\n"
"_vmsched()\n"
"{\n"
"\tlocal cur=${COMP_WORDS[COMP_CWORD]} line IFS=$'\\n'\n"
"\tlocal -a out\n"
"\tout=($(\"${COMP_WORDS[0]}\" complete \"$COMP_CWORD\" \\\n"
"\t    \"${COMP_WORDS[@]}\" 2>/dev/null))\n"
"\tCOMPREPLY=()\n"
"\tcase ${out[0]} in\n"
"\t@file)\tcompopt -o filenames 2>/dev/null\n"
"\t\tCOMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
"\t@dir)\tcompopt -o filenames 2>/dev/null\n"
"\t\tCOMPREPLY=($(compgen -d -- \"$cur\")) ;;\n"
"\t@user)\tCOMPREPLY=($(compgen -u -- \"$cur\")) ;;\n"
"\t@command)\n"
"\t\tCOMPREPLY=($(compgen -c -- \"$cur\")) ;;\n"
"\t*)\tfor line in \"${out[@]}\"; do\n"
"\t\t\tCOMPREPLY+=(\"${line%%$'\\t'*}\")\n"
"\t\tdone ;;\n"
"\tesac\n"
"}\n"
"complete -F _vmsched vmsched\n";

static const char zsh_script[] =
"#compdef vmsched\n"
"# zsh completion for vmsched; written by `vmsched completion zsh`.\n"
"# Every TAB asks `vmsched complete`, which answers from vmsched's own\n"
"# command table. Install: vmsched completion zsh >\n"
"#     /usr/local/share/zsh/site-functions/_vmsched\n"
"_vmsched() {\n"
"\tlocal line\n"
"\tlocal -a out cands\n"
"\tout=(\"${(@f)$(${words[1]} complete $((CURRENT - 1)) \"${words[@]}\" \\\n"
"\t    2>/dev/null)}\")\n"
"\tcase $out[1] in\n"
"\t@file) _files ;;\n"
"\t@dir) _files -/ ;;\n"
"\t@user) _users ;;\n"
"\t@command) _command_names -e ;;\n"
"\t*)\n"
"\t\tfor line in $out; do\n"
"\t\t\t[[ -n $line ]] || continue\n"
"\t\t\tif [[ $line == *$'\\t'* ]]; then\n"
"\t\t\t\tcands+=(\"${${line%%$'\\t'*}//:/\\\\:}:${line#*$'\\t'}\")\n"
"\t\t\telse\n"
"\t\t\t\tcands+=(\"${line//:/\\\\:}\")\n"
"\t\t\tfi\n"
"\t\tdone\n"
"\t\t(( $#cands )) && _describe -t vmsched vmsched cands ;;\n"
"\tesac\n"
"}\n"
"if [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n"
"\t_vmsched \"$@\"\n"
"else\n"
"\tcompdef _vmsched vmsched\n"
"fi\n";

static int
completion(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	int rc, first;

	(void)cli;
	if ((rc = cli_getopt(self, NULL, argc, argv, NULL, NULL, &first,
	    NULL)) != 0 || (rc = cli_nargs(self, argc - first)) != 0)
		return rc;
	if (strcmp(argv[first], "bash") == 0)
		fputs(bash_script, stdout);
	else if (strcmp(argv[first], "zsh") == 0)
		fputs(zsh_script, stdout);
	else {
		cli_err(0, "completion: %s: bash or zsh", argv[first]);
		return cli_usage(self);
	}
	return 0;
}

const struct cmd cmd_completion = {
	"completion", "bash|zsh",
	"print the shell completion script (make install puts it in place)",
	1, 1, completion, .cmd_operand = CV_WORDS, .cmd_words = "bash zsh",
};
