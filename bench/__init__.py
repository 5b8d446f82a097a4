"""FlowCRM benchmarks: ``flowcrm bench list`` names them, ``flowcrm bench NAME`` runs one."""
