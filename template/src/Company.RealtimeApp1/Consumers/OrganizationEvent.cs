using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Organizations;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Company.RealtimeApp1.Consumers;

/// <summary>An event in an organization, stored before it is broadcast. Each organization keeps a bounded history.</summary>
public sealed class OrganizationEvent : IStoredMessage
{
    /// <summary>Increases with every event, and so along each organization's stream.</summary>
    public long Id { get; init; }

    public Guid OrganizationId { get; init; }

    /// <summary>What happened, in the sender's words (for example <c>deploy.started</c>).</summary>
    public required string Type { get; init; }

    /// <summary>Free-form JSON the sender attached, stored as text.</summary>
    public string? Data { get; init; }

    public Guid SenderId { get; init; }

    public required string SenderName { get; init; }

    public DateTime CreatedAt { get; set; }
}

/// <summary>Applied by <see cref="AppDbContext"/> with the assembly's other configurations.</summary>
internal sealed class OrganizationEventConfiguration : IEntityTypeConfiguration<OrganizationEvent>
{
    public void Configure(EntityTypeBuilder<OrganizationEvent> organizationEvent)
    {
        organizationEvent.ToTable("OrganizationEvents");
        organizationEvent.Property(e => e.Type).HasMaxLength(OrganizationEvents.MaxEventNameLength);
        organizationEvent.Property(e => e.SenderName).HasMaxLength(256);
        organizationEvent.HasIndex(e => new { e.OrganizationId, e.Id });
        organizationEvent.HasOne<Organization>().WithMany().HasForeignKey(e => e.OrganizationId).OnDelete(DeleteBehavior.Cascade);
    }
}
