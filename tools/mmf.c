/*
 * mmf: see and manage named shared memory, named mutexes and mapped files
 * from the shell. Written on the public API of libmmf, plus the OS calls it
 * has no equivalent for (cli_sys.c). The manual is docs/mmf.1.
 */
#include "cli.h"

#include <string.h>

#define STR2(x) #x
#define STR(x) STR2(x)
#define TOOL_VERSION                                                           \
    STR(MMF_VERSION_MAJOR) "." STR(MMF_VERSION_MINOR) "." STR(MMF_VERSION_PATCH)

#define NAME_OR_PATH_OPTS                                                      \
    {"name", NULL, "take the argument as a NAME, whatever exists"},            \
    {                                                                          \
        "path", NULL, "take the argument as a PATH, whatever exists"           \
    }

static const struct cli_optdef ls_opts[] = {
    {"json", NULL, "print a JSON array of objects"},
    {NULL, NULL, NULL},
};

static const struct cli_optdef info_opts[] = {
    {"json", NULL, "print a JSON object"},
    NAME_OR_PATH_OPTS,
    {NULL, NULL, NULL},
};

static const struct cli_optdef create_opts[] = {
    {"mode", "MODE", "octal permission bits (default 0600, owner only)"},
    {"keep", NULL, "keep the map after its last holder, until 'mmf rm'"},
    {"hold", NULL, "hold the object until Ctrl-C or SIGTERM"},
    {"file", "PATH",
     "a persisted map of the file PATH (created if missing; SIZE may be "
     "left out to map the whole file)"},
    {"mutex", NULL, "a named mutex instead of a map (no SIZE; with --hold)"},
    {NULL, NULL, NULL},
};

static const struct cli_optdef read_opts[] = {
    {"offset", "N", "first byte to read (default 0)"},
    {"length", "N", "bytes to read (default: to the end)"},
    {"hex", NULL, "hex and ASCII dump (the default on a terminal)"},
    {"raw", NULL, "the bytes as they are (the default otherwise)"},
    NAME_OR_PATH_OPTS,
    {NULL, NULL, NULL},
};

static const struct cli_optdef write_opts[] = {
    {"offset", "N", "where to write (default 0)"},
    {"data", "STRING", "write the bytes of STRING"},
    {"file", "FILE", "write the contents of FILE"},
    {"sync", NULL, "flush durably to the file before exiting"},
    NAME_OR_PATH_OPTS,
    {NULL, NULL, NULL},
};

static const struct cli_optdef rm_opts[] = {
    {"force", NULL, "remove the name even while processes hold it"},
    {"mutex", NULL, "the mutex of that name instead of the map"},
    {NULL, NULL, NULL},
};

static const struct cli_optdef no_opts[] = {{NULL, NULL, NULL}};

static int run_help(const struct cli_command *cmd, const struct cli_args *a);
static int run_version(const struct cli_command *cmd, const struct cli_args *a);

static const struct cli_command commands[] = {
    {"ls", "[--json]", "list every named map and mutex this user can see",
     "Columns: NAME; KIND (map, file map: a persisted map, mutex, or\n"
     "foreign: shared memory another program made); SIZE; MODE; OWNER;\n"
     "HOLDERS (processes holding it, ? where unknown); STATE (live; kept:\n"
     "no holder, kept by name; stale: every holder died, 'mmf rm' removes\n"
     "it); FILE (of a file map). Windows tells neither owners nor holders.\n",
     ls_opts, 0, 0, cli_cmd_ls},
    {"info", "NAME|PATH [--json] [--name | --path]",
     "describe one named object, or a file and its page-cache residency",
     "For a NAME: the map and the mutex of that name, as 'mmf ls' shows\n"
     "them, with the ids of the holding processes; a file map also shows\n"
     "its file's residency. For a PATH: size, mode, owner, the named maps\n"
     "of the file, and how much of it is in the page cache, with a bar of\n"
     "its pages from start to end (O: all in memory, o: some, blank: none).\n",
     info_opts, 1, 1, cli_cmd_info},
    {"create", "NAME SIZE [--mode MODE] [--keep] [--hold] [--file PATH]",
     "create a named map (or hold a named mutex or a named file map)",
     "SIZE takes K, M or G. A map lives while some process holds it, so\n"
     "give --keep (it then stays until 'mmf rm NAME') or --hold (mmf holds\n"
     "it, printing how to open it, until Ctrl-C or SIGTERM), or both.\n"
     "'mmf create NAME --mutex --hold' holds a named mutex;\n"
     "'mmf create NAME [SIZE] --file PATH --hold' a named map of a file.\n",
     create_opts, 1, 2, cli_cmd_create},
    {"read", "NAME|PATH [--offset N] [--length N] [--hex | --raw]",
     "dump bytes of a named map or a file",
     "The range must lie within the map or file. Without --hex or --raw,\n"
     "a terminal gets a hex dump (repeated lines shown as one '*') and\n"
     "anything else the raw bytes.\n",
     read_opts, 1, 1, cli_cmd_read},
    {"write", "NAME|PATH [--offset N] (--data STRING | --file FILE | -)",
     "write bytes into a named map or a file",
     "'-' reads the bytes from standard input. A map or file never grows:\n"
     "bytes that would pass its end are refused, and nothing is written.\n",
     write_opts, 1, 2, cli_cmd_write},
    {"rm", "NAME [--force] [--mutex]", "remove a kept or stale name",
     "A name that processes hold is refused, with the holders, unless\n"
     "--force: the name then goes at once and the holders keep their\n"
     "memory. A stale name (every holder died) is always removed. A\n"
     "mutex's name goes with its last holder, so only a stale one can be\n"
     "removed. The file of a file map always stays.\n",
     rm_opts, 1, 1, cli_cmd_rm},
    {"touch", "PATH", "load a file into the page cache",
     "Shows a progress bar on a terminal for files of 64 MiB or more, then\n"
     "how much of the file is in the page cache.\n",
     no_opts, 1, 1, cli_cmd_touch},
    {"evict", "PATH", "drop a file from the page cache",
     "Writes dirty pages back first. Pages that processes have mapped may\n"
     "stay; the summary says how many did. Not available on Windows.\n",
     no_opts, 1, 1, cli_cmd_evict},
    {"version", "", "print the versions of mmf and of the libmmf it runs with",
     NULL, no_opts, 0, 0, run_version},
    {"help", "[COMMAND]", "show the help of mmf, or of one command", NULL,
     no_opts, 0, 1, run_help},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const char overview[] =
    "\n"
    "NAME or PATH: an argument is a PATH when it contains '/' (on Windows\n"
    "also '\\' or ':', but a leading Local\\ or Global\\ makes a NAME);\n"
    "otherwise it is a NAME when a named map or mutex of that name exists,\n"
    "else a PATH when a file of that name exists, else a NAME. --name and\n"
    "--path decide it instead.\n"
    "\n"
    "Numbers: sizes and offsets are decimal or 0x hexadecimal, optionally\n"
    "followed by K, M or G (times 1024, 1024^2, 1024^3), at most 2^63 - 1.\n"
    "\n"
    "Exit status: 0 success; 1 failure (one line on stderr names the object\n"
    "and the cause); 2 usage error (nothing was touched).\n"
    "\n"
    "'mmf help COMMAND' or 'mmf COMMAND --help' describes a command.\n";

static const struct cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static int run_help(const struct cli_command *cmd, const struct cli_args *a)
{
    const struct cli_command *c;

    if (a->npos == 0) {
        printf("usage: mmf COMMAND [ARGUMENTS] [OPTIONS]\n\n"
               "See and manage named shared memory, named mutexes and mapped "
               "files.\n\ncommands:\n");
        for (size_t i = 0; i < NCOMMANDS; i++)
            printf("  %-8s %s\n", commands[i].name, commands[i].summary);
        fputs(overview, stdout);
        return CLI_OK;
    }
    if ((c = find_command(a->pos[0])) == NULL)
        return cli_usage(cmd, "unknown command '%s'", a->pos[0]);
    cli_print_help(stdout, c);
    return CLI_OK;
}

static int run_version(const struct cli_command *cmd, const struct cli_args *a)
{
    (void)cmd;
    (void)a;
    printf("mmf %s (libmmf %s)\n", TOOL_VERSION, mmf_version_string());
    return CLI_OK;
}

int main(int argc, char **argv)
{
    const struct cli_command *cmd;
    struct cli_args args;
    const char *name = argc > 1 ? argv[1] : NULL;
    int rc;

    if (name == NULL) {
        fprintf(stderr, "mmf: missing command (see 'mmf help')\n");
        return CLI_USAGE;
    }
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0)
        name = "help";
    else if (strcmp(name, "-V") == 0 || strcmp(name, "--version") == 0)
        name = "version";
    if ((cmd = find_command(name)) == NULL) {
        fprintf(stderr, "mmf: unknown %s '%s' (see 'mmf help')\n",
                name[0] == '-' ? "option" : "command", name);
        return CLI_USAGE;
    }
    rc = cli_parse(cmd, argc - 1, argv + 1, &args);
    return rc >= 0 ? rc : cmd->run(cmd, &args);
}
