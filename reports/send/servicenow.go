package send

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ServiceNow, through the REST Table API and the Attachment API
// (https://docs.servicenow.com/bundle/washingtondc-api-reference/page/integrate/inbound-rest/concept/c_TableAPI.html,
// https://docs.servicenow.com/bundle/washingtondc-api-reference/page/integrate/inbound-rest/concept/c_AttachmentAPI.html):
//
//   - an incident named by its number (INC0010001) is looked up:
//     GET /api/now/table/incident?sysparm_query=number=INC0010001&sysparm_fields=sys_id,number;
//     answer 200 {"result": [{"sys_id", "number"}]}, an empty list when
//     there is none. One named by its sys_id (32 hex digits) is read:
//     GET /api/now/table/incident/SYS_ID, 404 when it does not exist;
//   - a new incident: POST /api/now/table/incident {"short_description",
//     "description"}; answer 201 {"result": {"sys_id", "number", ...}};
//   - each file: POST /api/now/attachment/file?table_name=incident&table_sys_id=SYS_ID&file_name=NAME
//     with the file as the raw body and its Content-Type; answer 201
//     {"result": {"sys_id", "file_name", "size_bytes", ...}};
//   - the report on an existing incident, as a work note (seen by the
//     service desk, not by the caller): PATCH /api/now/table/incident/SYS_ID
//     {"work_notes"}; answer 200.
//
// Errors come as {"error": {"message", "detail"}, "status": "failure"}.
// The table is incident unless the destination's table: says otherwise.
// The credential is USER:PASSWORD (auth: basic, the default) or an OAuth
// access token (auth: bearer). The incident's page is /incident.do?sys_id=SYS_ID.

func init() { register("servicenow", newServiceNow) }

type serviceNowSender struct {
	api   *api
	table string
}

// serviceNowDescription is the most the description field holds in a
// default instance (task.description is a 4,000-character string); the
// full report is attached.
const serviceNowDescription = 4000

func newServiceNow(d *Destination, secret string) (Sender, error) {
	a, err := newAPI(d, secret)
	if err != nil {
		return nil, err
	}
	t := d.Table
	if t == "" {
		t = "incident"
	}
	return &serviceNowSender{api: a, table: t}, nil
}

type snRecord struct {
	SysID  string `json:"sys_id"`
	Number string `json:"number"`
}

func (s *serviceNowSender) Send(ctx context.Context, m Message) (Receipt, error) {
	var rec snRecord
	var err error
	created := strings.TrimSpace(m.Ticket) == ""
	if created {
		rec, err = s.create(ctx, m)
	} else {
		rec, err = s.find(ctx, strings.TrimSpace(m.Ticket))
	}
	if err != nil {
		return Receipt{}, err
	}
	ref := rec.Number
	if ref == "" {
		ref = rec.SysID
	}
	rc := Receipt{Ticket: ref, URL: s.api.endpoint("/"+url.PathEscape(s.table)+".do", url.Values{"sys_id": {rec.SysID}}), Created: created}
	for _, a := range m.Attachments {
		q := url.Values{"table_name": {s.table}, "table_sys_id": {rec.SysID}, "file_name": {a.Name}}
		req := request{method: http.MethodPost, path: "/api/now/attachment/file", query: q, contentType: a.ContentType, body: a.Data,
			what: "attaching " + a.Name + " to " + ref}
		if _, err := s.api.do(ctx, req); err != nil {
			return rc, err
		}
	}
	if created {
		return rc, nil
	}
	req, err := jsonRequest(http.MethodPatch, "/api/now/table/"+url.PathEscape(s.table)+"/"+rec.SysID, "adding a work note to "+ref,
		map[string]string{"work_notes": m.Body})
	if err != nil {
		return rc, err
	}
	if _, err := s.api.do(ctx, req); err != nil {
		return rc, err
	}
	return rc, nil
}

func (s *serviceNowSender) create(ctx context.Context, m Message) (snRecord, error) {
	desc := m.Body
	if len([]rune(desc)) > serviceNowDescription {
		note := "\n\n[cut here: the full report is attached]"
		desc = string([]rune(desc)[:serviceNowDescription-len([]rune(note))]) + note
	}
	body := map[string]string{
		"short_description": cut(m.Subject, 160), // incident.short_description holds 160 characters
		"description":       desc,
	}
	req, err := jsonRequest(http.MethodPost, "/api/now/table/"+url.PathEscape(s.table), "creating a record in "+s.table, body)
	if err != nil {
		return snRecord{}, err
	}
	ans, err := s.api.do(ctx, req)
	if err != nil {
		return snRecord{}, err
	}
	var out struct{ Result snRecord }
	if err := ans.decode(&out); err != nil {
		return snRecord{}, err
	}
	if out.Result.SysID == "" {
		return snRecord{}, fmt.Errorf("%w: creating a record in %s: ServiceNow answered without a sys_id", ErrRejected, s.table)
	}
	return out.Result, nil
}

// find reads the record a --ticket names: its number or its sys_id.
func (s *serviceNowSender) find(ctx context.Context, ticket string) (snRecord, error) {
	fields := url.Values{"sysparm_fields": {"sys_id,number"}}
	if isSysID(ticket) {
		ans, err := s.api.do(ctx, request{method: http.MethodGet, path: "/api/now/table/" + url.PathEscape(s.table) + "/" + ticket, query: fields,
			what: "looking up " + ticket + " in " + s.table})
		if err != nil {
			return snRecord{}, err
		}
		var out struct{ Result snRecord }
		if err := ans.decode(&out); err != nil {
			return snRecord{}, err
		}
		if out.Result.SysID == "" {
			out.Result.SysID = ticket
		}
		return out.Result, nil
	}
	number := strings.ToUpper(ticket)
	if strings.Trim(number, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
		// A query holds ^ and = as operators: only a plain number is asked.
		return snRecord{}, fmt.Errorf("%w: %q is neither a ServiceNow number such as INC0010001 nor a sys_id", ErrNotFound, ticket)
	}
	fields.Set("sysparm_query", "number="+number)
	fields.Set("sysparm_limit", "1")
	ans, err := s.api.do(ctx, request{method: http.MethodGet, path: "/api/now/table/" + url.PathEscape(s.table), query: fields,
		what: "looking up " + number + " in " + s.table})
	if err != nil {
		return snRecord{}, err
	}
	var out struct{ Result []snRecord }
	if err := ans.decode(&out); err != nil {
		return snRecord{}, err
	}
	if len(out.Result) == 0 || out.Result[0].SysID == "" {
		return snRecord{}, fmt.Errorf("%w: looking up %s: %s has no %s numbered %s (or the account may not read it)", ErrNotFound, number, s.api.base.Host, s.table, number)
	}
	if out.Result[0].Number == "" {
		out.Result[0].Number = number
	}
	return out.Result[0], nil
}

func isSysID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
