/* The subcommands: each takes its own argv (argv[0] is its name) and
 * returns zmtrace's exit status. */
#ifndef ZM_COMMANDS_H
#define ZM_COMMANDS_H

int cmd_zombies(int argc, char **argv);
int cmd_rss(int argc, char **argv);
int cmd_top(int argc, char **argv);

#endif
