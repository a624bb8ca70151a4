// Package kinds registers every check kind triage ships. Import it for its
// side effect wherever playbooks are loaded or run:
//
//	import _ "github.com/triage-dev/triage/diag/kinds"
package kinds

import (
	_ "github.com/triage-dev/triage/diag/collectcheck"
	_ "github.com/triage-dev/triage/diag/netcheck"
	_ "github.com/triage-dev/triage/diag/pkgcheck"
	_ "github.com/triage-dev/triage/diag/syscheck"
)
