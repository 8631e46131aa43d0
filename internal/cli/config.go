package cli

import (
	"github.com/polder-nsm/polder/sensor/config"
	"github.com/polder-nsm/polder/sensor/pipeline"
)

// loadSensorConfig reads the YAML sensor config at path ("" = defaults) and
// converts it for the pipeline. Errors name the file, line and key; they are
// usage errors (exit status 2).
func loadSensorConfig(path string) (*pipeline.Config, error) {
	c := config.Default()
	if path != "" {
		var err error
		if c, err = config.Load(path); err != nil {
			return nil, &UsageError{err}
		}
	}
	pc, err := pipeline.FromConfig(c)
	if err != nil {
		return nil, &UsageError{err}
	}
	return pc, nil
}
