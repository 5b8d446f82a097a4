"""FlowCRM: a CRM in which every customer process is an executable, measurable flow."""
