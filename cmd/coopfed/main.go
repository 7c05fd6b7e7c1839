// Command coopfed runs a coopfed node and administers it.
//
//	coopfed dev                     run a development node in ./coopfed-data
//	coopfed init --dir D --host H --name N
//	coopfed serve --config D/coopfed.toml
//	coopfed member add|list|remove|reset-password ...
//	coopfed project add|list|set|remove ...
//	coopfed followers list ACTOR [--pending] | approve|reject ACTOR FOLLOWER_URI
//	coopfed actor set HANDLE --manual-approval on|off
//	coopfed deliveries list [--state S] [--limit N] | retry ID...|--all-dead
//	coopfed peer add|remove @coop@host|URL | peer list
//	coopfed projects [--coop HOST] [--tag T] [--need N]
//	coopfed proposal open|list|show|withdraw|extend|close ...
//	coopfed vote ID OPTION... --as NAME
//	coopfed contribution add|approve|reject|list ...
//	coopfed contributions import --project SLUG --repo PATH ...
//	coopfed payout create|approve|statement|verify ...
//
// Every admin command takes --config (default coopfed-data/coopfed.toml)
// and works while the node runs: both write the same database.
//
// Exit status: 0 on success, 2 for a usage error, 1 for any other failure.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/coopfed/coopfed/coop"
)

// version is the software version, set at build time with
// -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// command is one entry of the subcommand table.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what a subcommand reads and writes, so tests can run it in-process.
type env struct {
	stdout, stderr io.Writer
	// now, when set, is the clock of the use cases (tests); nil is the
	// system's.
	now func() time.Time
}

var commands []command

func init() {
	// Set in init: the help command reads the table it belongs to.
	commands = []command{
		{"dev", "run a development node in ./coopfed-data, creating it on first run", runDev},
		{"init", "create a node's config, database and keys", runInit},
		{"serve", "run the node", runServe},
		{"member", "add, list, remove members, reset a password", runMember},
		{"project", "add, list, change and remove projects", runProject},
		{"coop", "show and change the co-op's profile: name, summary, avatar, header", runCoop},
		{"post", "post as a local actor, to its followers or as a direct message", runPost},
		{"follow", "make a local actor follow a remote account", runFollow},
		{"unfollow", "undo a follow", runUnfollow},
		{"followers", "list followers; approve or reject follow requests", runFollowers},
		{"actor", "change an actor's settings (manual approval of followers)", runActor},
		{"deliveries", "list outbound deliveries; retry dead ones", runDeliveries},
		{"peer", "add, remove, list the co-ops that form this node's federation", runPeer},
		{"projects", "list local and federated projects [--coop HOST] [--tag T] [--need N]", runProjects},
		{"proposal", "open, list, show, withdraw, extend and close proposals", runProposal},
		{"vote", "vote on a proposal as a member: vote ID OPTION... --as NAME", runVote},
		{"contribution", "record, approve, reject and list contributions to projects", runContribution},
		{"contributions", "import a project's git history as contributions", runContributions},
		{"payout", "create, approve, print and verify payout rounds", runPayout},
		{"block", "block a remote domain or account; lift a block; list blocks", runBlock},
		{"reports", "list the reports other servers sent about this co-op; resolve one", runReports},
		{"log", "show, verify and prove the decision log; list the logs this node witnesses", runLog},
		{"backup", "write a consistent copy of the database (with every private key) while the node runs", runBackup},
		{"version", "print the version", runVersion},
		{"help", "list the commands", runHelp},
	}
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdout: os.Stdout, stderr: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run runs one command line and returns the exit status.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		printHelp(e.stderr)
		return 2
	}
	// A command acts as the node's operator, who holds its files; serve
	// takes that away again, since a running node acts for those who
	// reach it.
	ctx = coop.AsAdmin(ctx)
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(ctx, e, args[1:])
			var ue *usageError
			switch {
			case err == nil:
				return 0
			case errors.Is(err, errHelp):
				return 0
			case errors.As(err, &ue):
				fmt.Fprintf(e.stderr, "coopfed %s: %v\n", c.name, err)
				return 2
			default:
				fmt.Fprintf(e.stderr, "coopfed %s: %v\n", c.name, err)
				return 1
			}
		}
	}
	fmt.Fprintf(e.stderr, "coopfed: unknown command %q\n\n", args[0])
	printHelp(e.stderr)
	return 2
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "usage: coopfed COMMAND [flags] [arguments]")
	fmt.Fprintln(w)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'coopfed COMMAND -h' for a command's flags.")
}

func runHelp(_ context.Context, e *env, _ []string) error {
	printHelp(e.stdout)
	return nil
}

func runVersion(_ context.Context, e *env, _ []string) error {
	fmt.Fprintf(e.stdout, "coopfed %s\n", version)
	return nil
}
