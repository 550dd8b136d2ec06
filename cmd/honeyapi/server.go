package main

import (
	"errors"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/honeyapi/honeyapi/decoys"
	"github.com/honeyapi/honeyapi/internal/config"
)

// Limits of every HTTP server honeyapi runs. Decoy delays that outlast
// WriteTimeout must leave the handler (the tarpit hijacks the connection).
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
)

// newHTTPServer wraps h with honeyapi's timeouts and limits. The standard
// library's own error lines (TLS handshake errors, accept errors) go to
// logger at debug level: clients can provoke them at will.
func newHTTPServer(h http.Handler, logger zerolog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          log.New(debugWriter{logger}, "", 0),
	}
}

// debugWriter turns standard-library log lines into debug log events.
type debugWriter struct{ logger zerolog.Logger }

func (w debugWriter) Write(p []byte) (int, error) {
	w.logger.Debug().Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}

// newDecoyHandler returns the Echo instance serving the decoy. A standalone
// sensor is nothing but the decoy, so besides Mount's routes (each
// document's base path, its spec and bait paths) a root catch-all hands
// every other path to the decoy too, which answers it in the document's own
// style. Echo must leave no trace of itself: no banner, no port line, no
// default error body.
func newDecoyHandler(d *decoys.Decoy, logger zerolog.Logger) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.Logger.SetOutput(io.Discard)
	e.HTTPErrorHandler = bareErrorHandler(logger)
	h := echo.WrapHandler(d)
	e.Pre(otherMethodsTo(h))
	decoys.Mount(e, d)
	e.Any("/", h)
	e.Any("/*", h)
	return e
}

// echoMethods are the methods Echo's Any registers (echo.go's methods).
var echoMethods = map[string]bool{
	http.MethodConnect: true, http.MethodDelete: true, http.MethodGet: true,
	http.MethodHead: true, http.MethodOptions: true, http.MethodPatch: true,
	http.MethodPost: true, echo.PROPFIND: true, http.MethodPut: true,
	http.MethodTrace: true, echo.REPORT: true,
}

// otherMethodsTo hands a request whose method Echo does not route (a
// scanner's made-up verb) to h before routing, so the decoy answers it
// rather than Echo's 405 with Echo's own Allow list.
func otherMethodsTo(h echo.HandlerFunc) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !echoMethods[c.Request().Method] {
				return h(c)
			}
			return next(c)
		}
	}
}

// bareErrorHandler is the last resort for an error that reaches Echo: the
// decoy answers every request itself, so this writes only a status line and
// never Echo's {"message":...} body.
func bareErrorHandler(logger zerolog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		code := http.StatusInternalServerError
		var he *echo.HTTPError
		if errors.As(err, &he) && he.Code >= 400 && he.Code <= 599 {
			code = he.Code
		}
		if code >= 500 {
			logger.Debug().Err(err).Int("status", code).Msg("decoy error reached echo")
		}
		c.Response().WriteHeader(code)
	}
}

// newLogger returns the process logger: JSON lines on w, or a console
// format for people.
func newLogger(cfg *config.Config, w io.Writer) zerolog.Logger {
	if cfg.LogFormat == "console" {
		w = zerolog.ConsoleWriter{Out: w, NoColor: !isTerminal(w), TimeFormat: time.RFC3339}
	}
	return zerolog.New(w).Level(cfg.ZerologLevel()).With().Timestamp().Logger()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
