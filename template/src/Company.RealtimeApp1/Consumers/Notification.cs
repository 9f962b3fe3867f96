using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Company.RealtimeApp1.Consumers;

/// <summary>A message to one user, stored before it is sent so that a reconnecting client can catch up.</summary>
public sealed class Notification : IStoredMessage
{
    /// <summary>Increases with every notification, and so along each user's stream.</summary>
    public long Id { get; init; }

    public Guid UserId { get; init; }

    public required string Title { get; init; }

    public required string Body { get; init; }

    /// <summary>Free-form JSON the sender attached, stored as text.</summary>
    public string? Data { get; init; }

    public DateTime CreatedAt { get; set; }

    public DateTime? ReadAt { get; set; }
}

/// <summary>Applied by <see cref="AppDbContext"/> with the assembly's other configurations.</summary>
internal sealed class NotificationConfiguration : IEntityTypeConfiguration<Notification>
{
    public void Configure(EntityTypeBuilder<Notification> notification)
    {
        notification.ToTable("Notifications");
        notification.Property(n => n.Title).HasMaxLength(200);
        notification.Property(n => n.Body).HasMaxLength(4000);
        notification.HasIndex(n => new { n.UserId, n.Id });
        notification.HasOne<User>().WithMany().HasForeignKey(n => n.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
