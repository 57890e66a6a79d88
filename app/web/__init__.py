"""Web plumbing: templating, display formatting, charts, navigation, authentication
dependencies, security headers. Used by app/routes/ only; feature packages never import it."""
