package pipeline

import "github.com/polder-nsm/polder/internal/oracle"

// Regression floors for the corpus accuracy tests: set from the last
// measurement, raised as the mechanisms improve, never lowered to make a
// change pass. The README's accuracy section has the measured values.
var agreementFloor = map[oracle.Kind]float64{
	oracle.DNS:  0,
	oracle.HTTP: 0,
	oracle.TLS:  0,
}

const flowMatchFloor = 0.0
