namespace Slices.Api.Common;

// Missing or invalid configuration: the service prints this one line and exits instead of a stack trace.
public sealed class StartupException(string message) : Exception(message);
