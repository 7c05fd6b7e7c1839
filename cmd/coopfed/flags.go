package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// errHelp is returned when -h was asked for: the usage was printed, exit 0.
var errHelp = errors.New("help shown")

// stringList is a flag that may be given several times.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// newFlags makes a subcommand's flag set, printing its usage to w.
func newFlags(name, usage string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintf(w, "usage: coopfed %s\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags that may stand before, between or after the
// positional arguments (`member add alice --role admin`), which the flag
// package alone does not allow. Everything after "--" is positional.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, &usageError{err.Error()}
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// wantArgs checks the number of positional arguments.
func wantArgs(fs *flag.FlagSet, pos []string, n int, names string) error {
	if len(pos) != n {
		fs.Usage()
		if len(pos) < n {
			return usagef("missing %s", names)
		}
		return usagef("unexpected arguments: %s", strings.Join(pos[n:], " "))
	}
	return nil
}

// setup is the start of every admin command: parse the flags and the
// positional arguments (want of them, called names in the usage error),
// then open the node that path names. The caller closes the node.
func setup(ctx context.Context, fs *flag.FlagSet, path *string, args []string, want int, names string) ([]string, *node, error) {
	pos, err := parse(fs, args)
	if err != nil {
		return nil, nil, err
	}
	if err := wantArgs(fs, pos, want, names); err != nil {
		return nil, nil, err
	}
	n, err := openNode(ctx, *path)
	if err != nil {
		return nil, nil, err
	}
	return pos, n, nil
}
