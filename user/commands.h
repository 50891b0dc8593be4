/* The subcommands: each takes its own argv (argv[0] is its name) and
 * returns zmtrace's exit status. */
#ifndef ZM_COMMANDS_H
#define ZM_COMMANDS_H

int cmd_zombies(int argc, char **argv);
int cmd_rss(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_check(int argc, char **argv);


struct trace_args;
struct recorder;
/* The session of `zmtrace record` (every event into rec), for check too;
 * returns what session_run() does. */
int record_session(struct trace_args *a, struct recorder *rec);

#endif
