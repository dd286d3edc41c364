package main

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/procurations/procuration/api"
	"github.com/procurations/procuration/internal/config"
)

func apiCmd() *cobra.Command {
	var cfg *config.Config
	cmd := &cobra.Command{
		Use:   "api",
		Short: "Serve the HTTP API (docs at /docs, OpenAPI at /openapi.json)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			a, err := open(ctx, cfg)
			if err != nil {
				return err
			}
			defer a.Close()
			handler, err := a.Handler()
			if err != nil {
				return err
			}
			ln, err := listen(ctx, cfg.HTTPAddr, cfg.HTTPReusePort)
			if err != nil {
				return err
			}
			srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
			go func() {
				<-ctx.Done()
				shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = srv.Shutdown(shutdown)
			}()
			a.Log.Info("API listening", zap.String("url", cfg.PublicURL), zap.String("addr", ln.Addr().String()))
			if err := srv.Serve(api.Listener(ln)); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cfg = configured(cmd, config.RoleAPI)
	return cmd
}

func workerCmd() *cobra.Command {
	var cfg *config.Config
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run the Temporal worker (workflows and activities)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := open(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer a.Close()
			w, err := a.Worker()
			if err != nil {
				return err
			}
			if cfg.MetricsAddr != "" {
				addr, err := a.ServeMetrics(cmd.Context(), cfg.MetricsAddr)
				if err != nil {
					return err
				}
				a.Log.Info("worker metrics", zap.String("url", "http://"+addr.String()+"/metrics"))
			}
			a.Log.Info("worker polling", zap.String("temporal", cfg.Temporal.Address), zap.String("namespace", cfg.Temporal.Namespace),
				zap.String("task_queue", cfg.TaskQueue))
			stop := make(chan any)
			go func() {
				<-cmd.Context().Done()
				close(stop)
			}()
			go a.KeepConfirmationSender(cmd.Context())
			return w.Run(stop)
		},
	}
	cfg = configured(cmd, config.RoleWorker)
	return cmd
}
