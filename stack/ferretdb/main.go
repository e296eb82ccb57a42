// Command tenor-ferretdb runs FerretDB v1 (a MongoDB wire-protocol server) with its PostgreSQL
// backend for the local stack, storing every MongoDB database as a schema of one PostgreSQL
// database. It wraps the embeddable package instead of building cmd/ferretdb, whose module
// build panics at start without a generated version file. Telemetry is disabled by the
// embeddable package itself.
//
// Why PostgreSQL and not the SQLite backend: FerretDB's SQLite backend pushes only `{_id: …}`
// filters down to the store and scans the whole collection for any other query, so a poll such
// as `{outbox_pending: true}` costs time in proportion to everything ever written (150 ms at a
// thousand evaluations). The PostgreSQL backend pushes field filters down and uses the indexes
// a service creates, as MongoDB does.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27117", "TCP address to listen on")
	postgresURL := flag.String("postgresql-url", "", "PostgreSQL database that stores the data (required)")
	debug := flag.Bool("debug", false, "debug logging")
	flag.Parse()

	if *postgresURL == "" {
		fmt.Fprintln(os.Stderr, "tenor-ferretdb: --postgresql-url is required")
		os.Exit(2)
	}

	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: *listen},
		Logger:        logger,
		Handler:       "postgresql",
		PostgreSQLURL: *postgresURL,
	})
	if err != nil {
		logger.Error("start failed", "error", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	logger.Info("tenor-ferretdb listening", "addr", *listen, "backend", "postgresql")
	if err := f.Run(ctx); err != nil {
		logger.Error("run failed", "error", err)
		os.Exit(1)
	}
	logger.Info("tenor-ferretdb stopped")
}
