// Command vigil is the whole vigil security operations platform in one binary:
// the web server, the alarm receiver, and the command-line tools for
// administrators, installers and analysts.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// stdio carries the process streams so subcommands can be tested in-process.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// command is one subcommand. run returns the process exit code: 0 success,
// 1 a failed operation (or an invalid frame/roster where a command says so),
// 2 bad usage or invalid input.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, s stdio) int
}

// commands lists every subcommand; each lives in its own file.
var commands = map[string]command{
	"serve":    {"run the web server (and, with --demo, load demo data first)", runServe},
	"migrate":  {"apply database migrations or show their status: up, status", runMigrate},
	"org":      {"create an organisation: create", runOrg},
	"user":     {"manage users: create, passwd, disable", runUser},
	"token":    {"create an API token: create", runToken},
	"audit":    {"verify the audit log's hash chains: verify", runAudit},
	"backup":   {"write a consistent online backup of an embedded deployment", runBackup},
	"restore":  {"restore an embedded deployment from a backup", runRestore},
	"demo":     {"load the demo organisations, sites and users into an empty database", runDemo},
	"alarm":    {"alarm codec and receiver tools: decode, send, bench", runAlarm},
	"schedule": {"roster optimizer: solve, check", runSchedule},
	"risk":     {"risk engines: fair, easi, paths, dist (JSON in, JSON out)", runRisk},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], stdio{os.Stdin, os.Stdout, os.Stderr})
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, s stdio) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(s.err)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(s.err, "vigil: unknown command %q\n\n", args[0])
		usage(s.err)
		return 2
	}
	return c.run(ctx, args[1:], s)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: vigil <command> [options]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'vigil <command> -h' for a command's options.")
}
