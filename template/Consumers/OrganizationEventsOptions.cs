using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Consumers;

/// <summary>Bound from the <c>OrganizationEvents</c> section.</summary>
public sealed class OrganizationEventsOptions
{
    public const string SectionName = "OrganizationEvents";

    /// <summary>Stored events kept per organization for clients that resume; from further back they are told <c>"recovered":false</c>.</summary>
    [Range(1, 1_000_000)]
    public int History { get; set; } = 1000;
}

[OptionsValidator]
internal sealed partial class OrganizationEventsOptionsValidator : IValidateOptions<OrganizationEventsOptions>;
