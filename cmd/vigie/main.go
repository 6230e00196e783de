// Command vigie detects coordinated influence networks on social media.
// Everything lives in package app; this file only hands it the process's
// arguments, streams and signals.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/vigie-osint/vigie/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
