using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Consumers;

/// <summary>
/// The organization events' own settings. They are read from the <c>WebSockets</c> section, where the
/// contract (SPEC §3) names <c>WebSockets:OrgHistory</c> beside the sockets' other limits; the realtime
/// layer's options know nothing of them.
/// </summary>
public sealed class OrganizationEventsOptions
{
    public const string SectionName = "WebSockets";

    /// <summary>Stored events kept per organization for clients that resume; from further back they are told <c>"recovered":false</c>.</summary>
    [Range(1, 1_000_000)]
    public int OrgHistory { get; set; } = 1000;
}

[OptionsValidator]
internal sealed partial class OrganizationEventsOptionsValidator : IValidateOptions<OrganizationEventsOptions>;
