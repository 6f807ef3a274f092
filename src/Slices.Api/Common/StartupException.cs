namespace Slices.Api.Common;

/// <summary>Missing or invalid configuration: the service prints this one line and exits instead of a stack trace.</summary>
public sealed class StartupException(string message) : Exception(message);
