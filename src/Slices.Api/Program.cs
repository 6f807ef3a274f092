using Carter;
using FluentValidation;
using Slices.Api.Common;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;
using Slices.Api.Common.Observability;
using Slices.Api.Common.Work;
using Slices.Api.Features.Admin;
using Slices.Api.Features.Chat;
using Slices.Api.Features.Events;
using Slices.Api.Features.Holds;
using Slices.Api.Features.Restaurant;
using Slices.Api.Features.Stages;
using Scalar.AspNetCore;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.AddSlicesConsole(builder.Environment);
using var startupLogs = LoggerFactory.Create(l => l.AddSlicesConsole(builder.Environment));
var startupLogger = startupLogs.CreateLogger("Slices.Startup");

if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["http_ports"]))
{
    builder.WebHost.UseUrls("http://localhost:9000");
}

builder.WebHost.ConfigureKestrel(k =>
{
    k.AddServerHeader = false;
    // Uploads may be 5 MiB; JSON routes are held to 1 MiB by RequestLimits.
    k.Limits.MaxRequestBodySize = RequestLimits.MaxUploadBytes + (64 * 1024);
});

string connectionString;
EmbeddedPostgres? embedded;
JwtSettings jwt;
int passwordHashIterations;
RateLimitSettings rateLimits;
EventsSettings events;
HousekeepingSettings housekeeping;
ChatSettings chat;
(WorkOptions Work, EmailOptions Email) work;
RestaurantOptions restaurant;
HoldSettings holds;
ShutdownSettings shutdown;
ReadReplicaSettings readReplicas;
TelemetrySettings telemetry;
AppSettings appSettings;
try
{
    // Every setting is read here, once: a bad value stops the start-up with one line naming its key. Before the
    // embedded PostgreSQL (Development) starts, which a refused start-up would leave running.
    passwordHashIterations = Passwords.Iterations(builder.Configuration, builder.Environment);
    rateLimits = RateLimitSettings.Load(builder.Configuration);
    events = EventsSettings.Load(builder.Configuration, builder.Environment);
    housekeeping = HousekeepingSettings.Load(builder.Configuration);
    chat = ChatSettings.Load(builder.Configuration);
    work = WorkSetup.Load(builder.Configuration, builder.Environment);
    appSettings = AppSettings.Load(builder.Configuration);
    restaurant = RestaurantSetup.Load(builder.Configuration);
    holds = HoldSettings.Load(builder.Configuration);
    shutdown = ShutdownSettings.Load(builder.Configuration);
    readReplicas = ReadReplicaSettings.Load(builder.Configuration);
    telemetry = TelemetrySetup.Load(builder.Configuration);
    jwt = JwtSettings.Load(builder.Configuration, builder.Environment, Database.DataRoot(builder));
    (connectionString, embedded) = await Database.ResolveAsync(builder, startupLogger);
}
catch (StartupException e)
{
    await Console.Error.WriteLineAsync(e.Message);
    return 1;
}

if (telemetry.MetricsUrl is { } metricsUrl)
{
    builder.WebHost.UseUrls(TelemetrySetup.ListenUrls(builder.Configuration, metricsUrl));
}

builder.Services.AddSingleton(TimeProvider.System);
// SIGTERM: jobs are handed back and chat sockets closed with 1001 at once (ApplicationStopping), then the server stops
// accepting and waits up to this long for the requests in flight.
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = shutdown.Timeout);
builder.Services.ConfigureHttpJsonOptions(o => Json.Configure(o.SerializerOptions));
builder.Services.AddProblemHandling();
builder.Services.AddSlicesDatabase(connectionString);
builder.Services.AddReadReplicas(readReplicas);
builder.Services.AddSlicesAuth(jwt, passwordHashIterations);
builder.Services.AddAdminPanel();
builder.Services.AddSlicesRateLimits(rateLimits);
builder.Services.AddSlicesOpenApi();
builder.Services.AddWork(work.Work, work.Email);
builder.Services.AddHousekeeping(housekeeping);
builder.Services.AddSlicesTelemetry(telemetry, builder.Configuration);
builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: ["ready"]);
builder.Services.AddMediator(o =>
{
    o.ServiceLifetime = ServiceLifetime.Singleton;
    o.PipelineBehaviors = [typeof(ValidationBehavior<,>)];
});
builder.Services.AddValidators();
builder.Services.AddSingleton(events);
builder.Services.AddSingleton(holds);
builder.Services.AddSingleton(appSettings);
builder.Services.AddStages();
builder.Services.AddChat(chat);
builder.Services.AddRestaurant(restaurant);
// Carter maps the modules only; validators are registered once, above, for the mediator's validation behavior.
builder.Services.AddCarter(configurator: c => c.WithEmptyValidators());
ValidatorOptions.Global.DisplayNameResolver = (_, member, _) => member is null ? null : Json.SnakeCase(member.Name);

var app = builder.Build();

await Migrations.ApplyAsync(connectionString, startupLogger);
try
{
    await AdminAccount.EnsureAsync(
        app.Services.GetRequiredService<Npgsql.NpgsqlDataSource>(), app.Services.GetRequiredService<Passwords>(),
        app.Configuration, app.Environment, startupLogger);
}
catch (StartupException e)
{
    await Console.Error.WriteLineAsync(e.Message);
    return 1;
}

app.UseTrailingSlashTolerance();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseMetricsEndpoint(telemetry);
app.UseSecurityHeaders();
app.UseRequestLimits();
app.UseMedia();
app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(20) });
app.UseReadYourWrites();
app.UseRouting();
// After authentication: the holds limit is per signed-in user.
app.UseAuthentication();
app.UseRateLimiter();
app.UseAuthorization();
app.UseAntiforgery();
app.UseStrictQueryDates();
app.UseMiddleware<IdempotencyMiddleware>();

app.MapOpenApi().AllowAnonymous();
app.MapScalarApiReference(o => o.AddDocument("v1").WithTitle("Slices API")).AllowAnonymous();
app.MapHealthChecks("/health/live", new() { Predicate = _ => false }).AllowAnonymous();
app.MapHealthChecks("/health/ready", new() { Predicate = c => c.Tags.Contains("ready"), ResponseWriter = DatabaseHealthCheck.WriteAsync }).AllowAnonymous();
app.MapCarter();
app.MapAdminPanel();

await app.RunAsync();
if (embedded is not null)
{
    await embedded.StopAsync();
}

return 0;

// The integration tests start the service through WebApplicationFactory<Program>, which needs this type to be public.
public partial class Program;
