// Package logging builds the zap logger and adapts it for the Temporal SDK.
// Nothing that names a person is ever passed to it: dossiers are named by
// reference, people by token subject at most.
package logging

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/log"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

func New(level string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	cfg := zap.NewProductionConfig()
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	cfg.EncoderConfig.TimeKey = "time"
	cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	return cfg.Build()
}

// Temporal adapts zap to the SDK's key-value logger.
func Temporal(l *zap.Logger) log.Logger {
	return temporalLogger{l.WithOptions(zap.AddCallerSkip(1)).Sugar()}
}

type temporalLogger struct{ s *zap.SugaredLogger }

func (t temporalLogger) Debug(msg string, kv ...any) { t.s.Debugw(msg, kv...) }
func (t temporalLogger) Info(msg string, kv ...any)  { t.s.Infow(msg, kv...) }
func (t temporalLogger) Warn(msg string, kv ...any)  { t.s.Warnw(msg, kv...) }
func (t temporalLogger) Error(msg string, kv ...any) { t.s.Errorw(msg, kv...) }
func (t temporalLogger) With(kv ...any) log.Logger   { return temporalLogger{t.s.With(kv...)} }

type requestIDKey struct{}

// WithRequestID marks ctx as serving the request id, for Ctx.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the id of the request ctx serves, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// Ctx is l with the request id of ctx, so that every line a request logs
// can be found from the id its answer carried (X-Request-Id).
func Ctx(ctx context.Context, l *zap.Logger) *zap.Logger {
	if id := RequestID(ctx); id != "" {
		return l.With(zap.String("request_id", id))
	}
	return l
}
