using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Tests;

public sealed class OrganizationEventsOptionsTests
{
    [Fact]
    public void AnOrganizationHistoryOfZeroStopsTheApp()
    {
        using var app = RealtimeApplication.With(new() { ["WebSockets:OrgHistory"] = "0" });

        var failure = app.StartupFailure();

        Assert.Contains("OrgHistory", failure);
    }
}
