package lambdaemu

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// The Runtime API's headers
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html); aws-lambda-go's
// lambda/runtime_api_client.go reads and writes the same names.
const (
	HeaderRequestID          = "Lambda-Runtime-Aws-Request-Id"
	HeaderDeadlineMS         = "Lambda-Runtime-Deadline-Ms"
	HeaderInvokedFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
	HeaderTraceID            = "Lambda-Runtime-Trace-Id"
	// HeaderFunctionErrorType may name the errorType on .../error and .../init/error.
	HeaderFunctionErrorType = "Lambda-Runtime-Function-Error-Type"
	// The trailers aws-lambda-go adds to a response whose body failed while streaming.
	trailerErrorType = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody = "Lambda-Runtime-Function-Error-Body"
)

const base = "/" + APIVersion + "/runtime"

func (r *Runtime) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+base+"/invocation/next", r.next)
	mux.HandleFunc("POST "+base+"/invocation/{id}/response", r.response)
	mux.HandleFunc("POST "+base+"/invocation/{id}/error", r.invocationError)
	mux.HandleFunc("POST "+base+"/init/error", r.initError)
	return mux
}

// next is GET /runtime/invocation/next: it blocks until there is an event (there is
// no timeout: Lambda freezes the environment meanwhile) and returns it with its
// headers. The first call ends the init phase.
func (r *Runtime) next(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	select {
	case <-r.initDone:
	default:
		if r.initFailure == nil {
			r.stats.Init = time.Since(r.started)
			close(r.initDone)
		}
	}
	r.mu.Unlock()

	var inv *invocation
	select {
	case inv = <-r.queue:
	case <-req.Context().Done():
		return
	case <-r.closing:
		writeError(w, http.StatusInternalServerError, "Runtime.Closed", "the execution environment is shutting down")
		return
	}
	r.mu.Lock()
	inv.cpu = cpuTime(r.cmd.Process.Pid)
	inv.given = time.Now()
	deadline := inv.given.Add(r.fn.Timeout)
	r.mu.Unlock()

	h := w.Header()
	h.Set(HeaderRequestID, inv.id)
	h.Set(HeaderDeadlineMS, strconv.FormatInt(deadline.UnixMilli(), 10))
	h.Set(HeaderInvokedFunctionARN, r.fn.ARN())
	h.Set(HeaderTraceID, newTraceID())
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(inv.event)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.event)
}

// lookup finds the invocation named in the path, or answers the runtime with 400.
func (r *Runtime) lookup(w http.ResponseWriter, req *http.Request) *invocation {
	id := req.PathValue("id")
	r.mu.Lock()
	inv := r.inflight[id]
	r.mu.Unlock()
	if inv == nil {
		writeError(w, http.StatusBadRequest, "InvalidRequestID", fmt.Sprintf("no invocation in progress has the request id %q", id))
	}
	return inv
}

// response is POST /runtime/invocation/{id}/response.
func (r *Runtime) response(w http.ResponseWriter, req *http.Request) {
	inv := r.lookup(w, req)
	if inv == nil {
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, MaxResponseSize+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "read response body: "+err.Error())
		return
	}
	if len(body) > MaxResponseSize {
		msg := fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", MaxResponseSize)
		r.finish(inv, nil, newFunctionError("invoke", "Function.ResponseSizeTooLarge", msg, ""))
		writeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", msg)
		return
	}
	var result error
	// aws-lambda-go declares these trailers on every POST and fills them in only when
	// reading the response failed half-way; the body is then incomplete.
	if typ := req.Trailer.Get(trailerErrorType); typ != "" {
		payload, _ := base64.StdEncoding.DecodeString(req.Trailer.Get(trailerErrorBody))
		result = functionErrorFrom("invoke", typ, payload)
	}
	if !r.finish(inv, body, result) {
		writeError(w, http.StatusForbidden, "InvalidStateTransition", "the invocation already has a result")
		return
	}
	accepted(w)
}

// invocationError is POST /runtime/invocation/{id}/error.
func (r *Runtime) invocationError(w http.ResponseWriter, req *http.Request) {
	inv := r.lookup(w, req)
	if inv == nil {
		return
	}
	body, _ := io.ReadAll(io.LimitReader(req.Body, MaxResponseSize))
	if !r.finish(inv, nil, functionErrorFrom("invoke", req.Header.Get(HeaderFunctionErrorType), body)) {
		writeError(w, http.StatusForbidden, "InvalidStateTransition", "the invocation already has a result")
		return
	}
	accepted(w)
}

// initError is POST /runtime/init/error: allowed only before the first GET .../next.
func (r *Runtime) initError(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, MaxResponseSize))
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-r.initDone:
		writeError(w, http.StatusForbidden, "InvalidStateTransition", "init/error after the init phase")
		return
	default:
	}
	if r.initFailure != nil {
		writeError(w, http.StatusForbidden, "InvalidStateTransition", "init/error posted twice")
		return
	}
	fe := functionErrorFrom("init", req.Header.Get(HeaderFunctionErrorType), body)
	fe.Logs = r.logs.String()
	r.initFailure = fe
	close(r.initErr)
	accepted(w)
}

// functionErrorFrom reads an error document ({"errorMessage","errorType",
// "stackTrace"}); the Lambda-Runtime-Function-Error-Type header wins over its
// errorType, as in Lambda.
func functionErrorFrom(phase, headerType string, payload []byte) *FunctionError {
	var doc struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}
	if json.Unmarshal(payload, &doc) != nil {
		doc.Message = string(payload)
	}
	fe := &FunctionError{Type: doc.Type, Message: doc.Message, Phase: phase, Payload: payload}
	if headerType != "" {
		fe.Type = headerType
	}
	if fe.Type == "" {
		fe.Type = "Unhandled"
	}
	return fe
}

func accepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

func writeError(w http.ResponseWriter, status int, typ, msg string) {
	body, _ := json.Marshal(map[string]string{"errorType": typ, "errorMessage": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
