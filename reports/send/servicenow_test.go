package send

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The ServiceNow fake below answers as the documentation says ServiceNow
// does; it was written from the documentation, not recorded from a live
// instance:
//
//   - Table API, https://docs.servicenow.com/bundle/washingtondc-api-reference/page/integrate/inbound-rest/concept/c_TableAPI.html
//     (GET /api/now/table/{tableName} with sysparm_query and
//     sysparm_fields, answering {"result": [...]}; GET, PATCH
//     /api/now/table/{tableName}/{sys_id}; POST /api/now/table/{tableName}
//     answering 201 {"result": {...}});
//   - Attachment API, https://docs.servicenow.com/bundle/washingtondc-api-reference/page/integrate/inbound-rest/concept/c_AttachmentAPI.html
//     (POST /api/now/attachment/file?table_name=&table_sys_id=&file_name=,
//     the file as the body with its Content-Type, answering 201);
//   - error bodies {"error": {"message": "User Not Authenticated",
//     "detail": "Required to provide Auth information"}, "status":
//     "failure"}, and "No Record found" for a missing sys_id, from the
//     REST API explorer's examples and
//     https://docs.servicenow.com/bundle/washingtondc-api-reference/page/integrate/inbound-rest/reference/r_RESTResponseCodes.html.
//     The wording of the 403, 413 and 429 messages in
//     TestSendServiceNowFailures is illustrative, in that documented shape.
type fakeServiceNow struct {
	mu        sync.Mutex
	user      string
	pass      string
	bearer    string
	calls     []string
	created   map[string]string // short_description, description
	files     map[string][]byte // sys_id/file_name → bytes
	types     map[string]string // file_name → Content-Type
	workNotes map[string]string // sys_id → work_notes
}

const (
	snExisting = "9d385017c611228701d22104cc95c371"
	snNew      = "a8f98bb0eb32010045e1a5115206fe3a"
)

func newFakeServiceNow(user, pass, bearer string) *fakeServiceNow {
	return &fakeServiceNow{user: user, pass: pass, bearer: bearer, created: map[string]string{}, files: map[string][]byte{},
		types: map[string]string{}, workNotes: map[string]string{}}
}

func snError(w http.ResponseWriter, status int, msg, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"message": msg, "detail": detail}, "status": "failure"})
}

func (f *fakeServiceNow) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	u, p, basic := r.BasicAuth()
	switch {
	case basic && u == f.user && p == f.pass:
	case f.bearer != "" && r.Header.Get("Authorization") == "Bearer "+f.bearer:
	default:
		snError(w, 401, "User Not Authenticated", "Required to provide Auth information")
		return
	}
	if r.Header.Get("Accept") != "application/json" {
		snError(w, 406, "Not Acceptable", "Accept must be application/json")
		return
	}
	q := r.URL.Query()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == "GET" && r.URL.Path == "/api/now/table/incident":
		if q.Get("sysparm_fields") != "sys_id,number" {
			snError(w, 400, "Invalid sysparm_fields", "")
			return
		}
		var res []snRecord
		if q.Get("sysparm_query") == "number=INC0010001" {
			res = append(res, snRecord{snExisting, "INC0010001"})
		}
		json.NewEncoder(w).Encode(map[string]any{"result": res})
	case r.Method == "GET" && r.URL.Path == "/api/now/table/incident/"+snExisting:
		json.NewEncoder(w).Encode(map[string]any{"result": snRecord{snExisting, "INC0010001"}})
	case r.Method == "POST" && r.URL.Path == "/api/now/table/incident":
		var body map[string]string
		json.NewDecoder(r.Body).Decode(&body)
		if r.Header.Get("Content-Type") != "application/json" || body["short_description"] == "" {
			snError(w, 400, "Invalid request", "short_description is required")
			return
		}
		f.created = body
		w.WriteHeader(201)
		json.NewEncoder(w).Encode(map[string]any{"result": map[string]string{"sys_id": snNew, "number": "INC0010002", "state": "1",
			"short_description": body["short_description"]}})
	case r.Method == "POST" && r.URL.Path == "/api/now/attachment/file":
		if q.Get("table_name") != "incident" || (q.Get("table_sys_id") != snExisting && q.Get("table_sys_id") != snNew) {
			snError(w, 400, "Invalid table or sys_id", "table_name and table_sys_id must name a record")
			return
		}
		if q.Get("file_name") == "" || r.Header.Get("Content-Type") == "" {
			snError(w, 400, "Failed to create the attachment", "file_name and Content-Type are required")
			return
		}
		data, _ := io.ReadAll(r.Body)
		f.files[q.Get("table_sys_id")+"/"+q.Get("file_name")] = data
		f.types[q.Get("file_name")] = r.Header.Get("Content-Type")
		w.WriteHeader(201)
		json.NewEncoder(w).Encode(map[string]any{"result": map[string]string{"sys_id": "b1b1", "file_name": q.Get("file_name"),
			"table_name": "incident", "table_sys_id": q.Get("table_sys_id"), "size_bytes": strconv.Itoa(len(data))}})
	case r.Method == "PATCH" && r.URL.Path == "/api/now/table/incident/"+snExisting:
		var body map[string]string
		json.NewDecoder(r.Body).Decode(&body)
		f.workNotes[snExisting] = body["work_notes"]
		json.NewEncoder(w).Encode(map[string]any{"result": snRecord{snExisting, "INC0010001"}})
	case strings.HasPrefix(r.URL.Path, "/api/now/table/incident/"):
		snError(w, 404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")
	default:
		snError(w, 400, "Requested URI does not represent any resource", "")
	}
}

func TestSendServiceNow(t *testing.T) {
	pass := "pw-" + planted
	f := newFakeServiceNow("triage.integration", pass, "")
	env := map[string]string{"SN": "triage.integration:" + pass}
	d := &Destination{Name: "sn", Type: "servicenow", Credential: Credential{"env:SN"}, Getenv: func(k string) string { return env[k] }}
	s, srv := serve(t, f, d)
	ctx := context.Background()

	// A new incident: the headline as short_description, the files attached to it.
	m := composed(t, "")
	rc := deliver(t, d, s, m)
	if rc.Ticket != "INC0010002" || !rc.Created || rc.URL != srv.URL+"/incident.do?sys_id="+snNew {
		t.Errorf("receipt %+v", rc)
	}
	if f.created["short_description"] != m.Subject || f.created["description"] != m.Body {
		t.Errorf("created %q", f.created)
	}
	for _, a := range m.Attachments {
		if !bytes.Equal(f.files[snNew+"/"+a.Name], a.Data) || f.types[a.Name] != a.ContentType {
			t.Errorf("attachment %s: %d bytes as %q, sent %d as %q", a.Name, len(f.files[snNew+"/"+a.Name]), f.types[a.Name], len(a.Data), a.ContentType)
		}
	}

	// A work note on an incident named by its number, then by its sys_id.
	for _, ticket := range []string{"INC0010001", "inc0010001", snExisting} {
		f.calls, f.workNotes = nil, map[string]string{}
		c := composed(t, ticket)
		rc, err := Deliver(ctx, d, s, c)
		if err != nil {
			t.Fatalf("%s: %v", ticket, err)
		}
		if rc.Ticket != "INC0010001" || rc.Created || rc.URL != srv.URL+"/incident.do?sys_id="+snExisting {
			t.Errorf("%s: receipt %+v", ticket, rc)
		}
		if f.workNotes[snExisting] != c.Body {
			t.Errorf("%s: work note %q", ticket, f.workNotes[snExisting])
		}
		want := []string{"GET /api/now/table/incident", "POST /api/now/attachment/file", "POST /api/now/attachment/file", "PATCH /api/now/table/incident/" + snExisting}
		if ticket == snExisting {
			want[0] += "/" + snExisting
		}
		if strings.Join(f.calls, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: calls\n%s\nwant\n%s", ticket, strings.Join(f.calls, "\n"), strings.Join(want, "\n"))
		}
	}

	// A number or sys_id that does not exist: not found, nothing attached.
	for _, ticket := range []string{"INC0099999", "0123456789abcdef0123456789abcdef", "INC1^ORnumber!=x"} {
		f.calls = nil
		_, err := Deliver(ctx, d, s, composed(t, ticket))
		if !errors.Is(err, ErrNotFound) || (!strings.Contains(err.Error(), ticket) && !strings.Contains(err.Error(), strings.ToUpper(ticket))) {
			t.Errorf("%s: %v", ticket, err)
		}
		for _, c := range f.calls {
			if strings.HasPrefix(c, "POST") || strings.HasPrefix(c, "PATCH") {
				t.Errorf("%s: %s after the lookup failed", ticket, c)
			}
		}
	}

	// An OAuth access token.
	f.bearer = "oauth-" + planted
	env["SNTOKEN"] = f.bearer
	ob := &Destination{Name: "sn", Type: "servicenow", URL: srv.URL, Auth: "bearer", Credential: Credential{"env:SNTOKEN"}, Getenv: func(k string) string { return env[k] }}
	so, err := New(ob)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Deliver(ctx, ob, so, composed(t, "INC0010001")); err != nil {
		t.Errorf("bearer: %v", err)
	}

	// A long report: the description is cut to what the field holds, the
	// full report is attached.
	long := composed(t, "")
	long.Body = strings.Repeat("é", 5000)
	if _, err := Deliver(ctx, d, s, long); err != nil {
		t.Fatal(err)
	}
	if n := len([]rune(f.created["description"])); n != serviceNowDescription || !strings.HasSuffix(f.created["description"], "the full report is attached]") {
		t.Errorf("description of %d characters: %q", n, f.created["description"][len(f.created["description"])-60:])
	}
}

func TestSendServiceNowFailures(t *testing.T) {
	pass := "pw-" + planted
	checkVendorFailures(t, func() http.Handler { return newFakeServiceNow("u", pass, "") },
		func(url string) *Destination {
			return &Destination{Name: "sn", Type: "servicenow", URL: url, Credential: Credential{"env:SN"}, Getenv: func(string) string { return "u:" + pass }}
		}, "INC0010001", []vendorFailure{
			{name: "401", at: "GET /api/now/table/incident", status: 401, want: ErrAuth,
				body: `{"error":{"message":"User Not Authenticated","detail":"Required to provide Auth information"},"status":"failure"}`, says: "User Not Authenticated"},
			{name: "403", at: "POST /api/now/attachment/file", status: 403, want: ErrAuth,
				body: `{"error":{"message":"Insufficient rights to create the attachment","detail":null},"status":"failure"}`, says: "Insufficient rights"},
			{name: "404", at: "PATCH /api/now/table/incident/", status: 404, want: ErrNotFound,
				body: `{"error":{"message":"No Record found","detail":"Record doesn't exist or ACL restricts the record retrieval"},"status":"failure"}`, says: "No Record found"},
			{name: "413", at: "POST /api/now/attachment/file", status: 413, want: ErrTooLarge,
				body: `{"error":{"message":"Request entity too large","detail":"Attachment size exceeds com.glide.attachment.max_size"},"status":"failure"}`, says: "too large"},
			{name: "429 then ok", at: "GET /api/now/table/incident", status: 429, retryAfter: "1", times: 1,
				body: `{"error":{"message":"Rate limit exceeded","detail":"Rate limit of 100 requests per hour exceeded"},"status":"failure"}`},
			{name: "429 too long", at: "GET /api/now/table/incident", status: 429, retryAfter: "3600", want: ErrUnavailable,
				body: `{"error":{"message":"Rate limit exceeded","detail":"Rate limit of 100 requests per hour exceeded"},"status":"failure"}`, says: "asked to wait 1h0m0s"},
		}, pass)
}

// vendorFailure is one failure a vendor's documentation describes,
// answered at the first request that matches "METHOD /path-prefix".
type vendorFailure struct {
	name       string
	at         string
	status     int
	retryAfter string
	// header holds more headers of the answer.
	header map[string]string
	body   string
	// times is how many matching requests fail; 0 is all of them.
	times int
	// want is the error's type; nil when the send succeeds after the
	// server's Retry-After.
	want error
	// says is what the error must show: the vendor's own message.
	says string
}

// checkVendorFailures sends a message to a fresh fake per case, fails the
// matching request as the case says, and checks the error: its type, the
// vendor's message, one line, no secret; or, for a retried 429, that the
// pause the server asked for was kept.
func checkVendorFailures(t *testing.T, fake func() http.Handler, dest func(url string) *Destination, ticket string, fs []vendorFailure, secrets ...string) {
	t.Helper()
	for _, vf := range fs {
		t.Run(vf.name, func(t *testing.T) {
			var mu sync.Mutex
			failed := 0
			var last time.Time
			var waited time.Duration
			h := fake()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				if !last.IsZero() && waited == 0 {
					waited = time.Since(last)
				}
				hit := strings.HasPrefix(r.Method+" "+r.URL.Path, vf.at) && (vf.times == 0 || failed < vf.times)
				if hit {
					failed++
					last = time.Now()
				}
				mu.Unlock()
				if !hit {
					h.ServeHTTP(w, r)
					return
				}
				if vf.retryAfter != "" {
					w.Header().Set("Retry-After", vf.retryAfter)
				}
				for k, v := range vf.header {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(vf.status)
				io.WriteString(w, vf.body)
			}))
			defer srv.Close()
			d := dest(srv.URL)
			d.Timeout = 5 * time.Second
			s, err := New(d)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Deliver(context.Background(), d, s, composed(t, ticket))
			if failed == 0 {
				t.Fatalf("no request matched %q", vf.at)
			}
			if vf.want == nil {
				if err != nil {
					t.Fatalf("after Retry-After: %v", err)
				}
				if ra, _ := time.ParseDuration(vf.retryAfter + "s"); waited < ra {
					t.Errorf("asked again after %v, the server asked for %v", waited, ra)
				}
				return
			}
			if !errors.Is(err, vf.want) {
				t.Fatalf("got %v, want %v", err, vf.want)
			}
			msg := err.Error()
			t.Log(msg)
			if !strings.Contains(msg, vf.says) {
				t.Errorf("the error does not say %q: %s", vf.says, msg)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("the error is not one line: %q", msg)
			}
			assertNoSecret(t, "the error", []byte(msg), append(secrets, planted)...)
		})
	}
}
