// Package reports holds triage's report model (schema triage.report/v1,
// DESIGN §6) and everything made from it: the renderers (text, json,
// markdown, html, junit, prometheus), support bundles, redaction and
// anonymization, and the diff and merge of saved reports. Renderers read
// only the model: a saved JSON report renders the same as the run that
// produced it.
//
// Secrets are removed here, not by the check kinds: a Redactor runs over
// a finished report before anything is rendered or written, and a bundle
// is refused for a report that has not been through one. Nothing here
// runs checks or talks to a target. See docs/reports.md.
package reports
