// Package reports holds triage's report model (schema triage.report/v1,
// DESIGN §6) and the renderers that turn it into text, JSON and the other
// formats. Renderers read only the model: a saved JSON report renders the
// same as the run that produced it.
package reports
