"""The synthetic demo dataset (`palier demo`): structures, accounts, assessments."""
