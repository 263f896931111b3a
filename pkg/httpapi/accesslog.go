package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// The access line of every request (observe.go record) is the hot path's one log
// write. Through log/slog it costs a stack walk (the record's caller), a slice of
// attributes, a Record that copies them, and a float formatted through
// encoding/json: about a tenth of a push's CPU (issue 15). NewJSONLogger's logger
// is slog's JSON logger for every other line, while observe appends the access
// line itself into a pooled buffer — the same bytes slog.JSONHandler writes for the
// same fields (TestAccessLine_SameBytesAsSlog, FuzzAccessLine), without a map,
// reflection or an allocation.

// NewJSONLogger is slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level:
// level})) whose access lines observe writes directly (app.Logger is one). Lines
// written either way go to w whole, one Write each, never interleaved.
func NewJSONLogger(w io.Writer, level slog.Leveler) *slog.Logger {
	lw := &lockedWriter{w: w}
	return slog.New(&jsonLines{
		Handler: slog.NewJSONHandler(lw, &slog.HandlerOptions{Level: level}),
		w:       lw,
	})
}

// jsonLines is NewJSONLogger's handler: slog's JSON handler, and the writer observe
// appends access lines to. A logger derived with attributes or a group has slog's
// handler only (WithAttrs and WithGroup are the embedded handler's), so its lines
// keep what it was given.
type jsonLines struct {
	slog.Handler
	w *lockedWriter
	// now is the clock of the lines observe writes (time.Now if nil; tests).
	now func() time.Time
}

// lockedWriter serializes the writes of slog's handler and of observe.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(b)
}

// maxPooledLine is the largest line buffer kept for the next request.
const maxPooledLine = 16 << 10

var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// lineBuilder collects the fields of one access line, in order: appended as JSON to
// buf when the logger is NewJSONLogger's (direct), else as slog attributes.
type lineBuilder struct {
	direct bool
	buf    []byte
	bp     *[]byte // where buf came from (linePool)
	// attrs[:n] are the attributes of a line through slog: an array in the builder
	// (on the caller's stack), room for every field record writes.
	attrs [16]slog.Attr
	n     int
}

func (b *lineBuilder) attr(a slog.Attr) {
	b.attrs[b.n] = a
	b.n++
}

// head starts a direct line as slog.JSONHandler does: the time (RFC 3339 with
// nanoseconds, slog's JSON form), the level and the message.
func (b *lineBuilder) head(now time.Time, level slog.Level, msg string) {
	b.buf = append(b.buf, `{"time":"`...)
	b.buf = now.AppendFormat(b.buf, time.RFC3339Nano)
	b.buf = append(b.buf, `","level":`...)
	b.buf = appendJSONString(b.buf, level.String())
	b.buf = append(b.buf, `,"msg":`...)
	b.buf = appendJSONString(b.buf, msg)
}

// key appends ,"key": (keys are constants of observe.go: nothing to escape, but
// escaped all the same).
func (b *lineBuilder) key(k string) {
	b.buf = append(b.buf, ',')
	b.buf = appendJSONString(b.buf, k)
	b.buf = append(b.buf, ':')
}

func (b *lineBuilder) str(k, v string) {
	if !b.direct {
		b.attr(slog.String(k, v))
		return
	}
	b.key(k)
	b.buf = appendJSONString(b.buf, v)
}

func (b *lineBuilder) int(k string, v int) {
	if !b.direct {
		b.attr(slog.Int(k, v))
		return
	}
	b.key(k)
	b.buf = strconv.AppendInt(b.buf, int64(v), 10)
}

func (b *lineBuilder) float(k string, v float64) {
	if !b.direct {
		b.attr(slog.Float64(k, v))
		return
	}
	b.key(k)
	b.buf = appendJSONFloat(b.buf, v)
}

// randomID is str(k, a fresh random id: 12 random bytes in hex), the hex appended
// straight into a direct line.
func (b *lineBuilder) randomID(k string) {
	var raw [12]byte
	_, _ = rand.Read(raw[:])
	if !b.direct {
		b.attr(slog.String(k, hex.EncodeToString(raw[:])))
		return
	}
	b.key(k)
	b.buf = append(b.buf, '"')
	b.buf = hex.AppendEncode(b.buf, raw[:])
	b.buf = append(b.buf, '"')
}

// write ends a direct line and writes it: one Write, as slog's handler does.
func (h *jsonLines) write(b []byte) []byte {
	b = append(b, '}', '\n')
	_, _ = h.w.Write(b)
	return b
}

func (h *jsonLines) timeNow() time.Time {
	if h.now != nil {
		return h.now()
	}
	return time.Now()
}

// begin starts a line of logger at level, or returns false if the logger writes no
// such line (slog.Logger.Enabled).
func (b *lineBuilder) begin(ctx context.Context, logger *slog.Logger, level slog.Level) (*jsonLines, bool) {
	if !logger.Enabled(ctx, level) {
		return nil, false
	}
	jl, ok := logger.Handler().(*jsonLines)
	if !ok {
		return nil, true
	}
	b.direct, b.bp = true, linePool.Get().(*[]byte)
	b.buf = (*b.bp)[:0]
	b.head(jl.timeNow(), level, "request")
	return jl, true
}

// end writes the line built: directly through jl, or through logger.
func (b *lineBuilder) end(ctx context.Context, logger *slog.Logger, jl *jsonLines, level slog.Level) {
	if !b.direct {
		logger.LogAttrs(ctx, level, "request", b.attrs[:b.n]...)
		return
	}
	b.buf = jl.write(b.buf)
	if cap(b.buf) <= maxPooledLine {
		*b.bp = b.buf[:0]
		linePool.Put(b.bp)
	}
}

// appendJSONString appends s as a JSON string exactly as log/slog's JSON handler
// writes one (its appendEscapedJSONString): ", \ and control characters escaped
// (\n, \r, \t, else \u00XX), invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped,
// everything else (HTML characters included) as it is. RFC 8259 §7: any string
// comes out as a valid JSON string that decodes to s with invalid bytes replaced.
func appendJSONString(buf []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '\\', '"':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// appendJSONFloat appends f as encoding/json writes a float64 (which slog's JSON
// handler calls for one): 'f' format, or 'e' outside [1e-6, 1e21) with an exponent
// of one digit not padded. A duration is never NaN or infinite; should one be, it
// is written as 0 rather than break the line.
func appendJSONFloat(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(b, '0')
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
