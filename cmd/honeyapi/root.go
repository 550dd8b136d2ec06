package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/honeyapi/honeyapi/internal/config"
)

// Exit codes.
const (
	exitOK      = 0
	exitRuntime = 1
	exitUsage   = 2
)

// app is what every command shares: where output goes and how the
// environment is read (injected so tests need not touch the process).
type app struct {
	stdout    io.Writer
	stderr    io.Writer
	lookupEnv func(string) (string, bool)
	// started is set once flags and arguments were accepted; an error before
	// that is a usage error.
	started bool
}

// usageError marks an error the user can fix by changing the command line
// or the configuration; it exits with status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// run executes the command line args and returns the process exit code.
func run(args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	a := &app{stdout: stdout, stderr: stderr, lookupEnv: lookupEnv}
	root := newRootCmd(a)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(context.Background())
	if err == nil {
		return exitOK
	}
	var q quietExit
	if errors.As(err, &q) {
		return q.code
	}
	fmt.Fprintf(stderr, "honeyapi: %v\n", err)
	var ce codeError
	if errors.As(err, &ce) {
		return ce.code
	}
	var ue usageError
	if !a.started || errors.As(err, &ue) {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return exitUsage
	}
	return exitRuntime
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "honeyapi",
		Short: "Decoy APIs from OpenAPI documents, to catch whoever probes them",
		Long: `honeyapi serves decoy APIs generated from OpenAPI documents: realistic,
consistent synthetic responses for every operation, with each interaction
logged; honeytokens that are recognised wherever they are presented. Run
"honeyapi serve" to start a sensor with a built-in template.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(*cobra.Command, []string) {
			a.started = true
		},
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.CompletionOptions.DisableDefaultCmd = true
	config.BindGlobalFlags(root.PersistentFlags())

	root.AddCommand(
		newServeCmd(a),
		newTemplatesCmd(a),
		newEventsCmd(a),
		newActorsCmd(a),
		newDBCmd(a),
		newTokensCmd(a),
		newAlertsCmd(a),
		newVersionCmd(a),
	)
	return root
}
