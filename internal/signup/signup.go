// Package signup is the contract of the workflow that confirms a matching
// platform's sign-up by email.
package signup

const WorkflowName = "Signup"

// WorkflowID derives the workflow ID from the sign-up's.
func WorkflowID(id string) string { return "signup-" + id }
